"""``aekit sample``: new images from a VAE."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device, add_picture_output, check_picture_output


def add_parser(commands) -> argparse.ArgumentParser:
    sample = commands.add_parser(
        "sample",
        help="generate new images from a VAE run",
        description="Draw codes from the VAE's N(0, I) prior and decode them into a grid of new images.",
    )
    sample.add_argument("run", type=Path, help="a run trained with --model vae")
    sample.add_argument("-n", type=int, default=64, help="how many images (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    add_picture_output(sample)
    add_device(sample)
    return sample


def run(args: argparse.Namespace) -> int:
    from aekit.explore import sample_images
    from aekit.report.plots import image_grid_figure, save_png
    from aekit.runs import load_run

    check_picture_output(args.output, args.force)
    images = sample_images(load_run(args.run, device=args.device).model, args.n, args.seed)
    save_png(image_grid_figure(images, max(1, round(args.n**0.5))), args.output)
    print(f"wrote {args.n} samples to {args.output}")
    return 0
