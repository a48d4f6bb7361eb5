"""``aekit rd``: a run's codec against PCA, PNG, JPEG, WebP and AVIF, measured fairly."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device


def add_parser(commands) -> argparse.ArgumentParser:
    rd = commands.add_parser(
        "rd",
        help="measure the run's codec at every quality against PCA, PNG, JPEG, WebP and AVIF",
        description="Compress INPUT with the run at every --quality (codec runs) or at steps 0.5-3 "
        "(other --quantize runs), with PCA through the same entropy coder, and with PNG, JPEG, "
        "WebP and AVIF (Pillow) both as one file per image and as one mosaic picture of all "
        "images (one header for all, as an .aez file has). Prints bytes per image (real and "
        "predicted by the tables), PSNR, SSIM and images per second, and writes RUN/rd.csv, "
        "RUN/rd.json and RUN/rd.png (which 'aekit report' shows).",
    )
    rd.add_argument("run", type=Path, help="run folder")
    rd.add_argument("--input", default="mnist:test", help="images to measure on (default: %(default)s)")
    rd.add_argument(
        "--per-image",
        type=int,
        metavar="N",
        help="measure one file per image on the first N images only (AVIF writes a few hundred "
        "small files a second); default: all",
    )
    rd.add_argument("--force", action="store_true", help="replace the run's rd.csv, rd.json and rd.png")
    add_device(rd, default="cpu")
    return rd


def run(args: argparse.Namespace) -> int:
    from aekit.codec.rd import markdown_table, rate_distortion

    rows = rate_distortion(
        args.run, args.input, per_image_limit=args.per_image, device=args.device, force=args.force
    )
    print(markdown_table(rows))
    print(f"\nwrote rd.csv, rd.json and rd.png to {args.run}")
    return 0
