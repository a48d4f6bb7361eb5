"""``aekit decompress``: an .aez file back to images."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from aekit.cli.options import add_device, add_output


def add_parser(commands) -> argparse.ArgumentParser:
    decompress = commands.add_parser(
        "decompress",
        help="decode an .aez file back to images",
        description="Decode an .aez file to a .npy array or a folder of PNGs. The run that made "
        "the file is found by the model fingerprint in the file, among the folders in runs/, "
        "unless --run names it.",
    )
    decompress.add_argument("file", type=Path, help="the .aez file")
    add_output(decompress, "a .npy file or a folder for PNGs")
    decompress.add_argument("--run", type=Path, help="the run folder that compressed the file")
    decompress.add_argument(
        "--max-images",
        type=int,
        help="refuse files of more images than this (default: as many as fill 1 GiB of float32 pixels, "
        "342,392 for MNIST), so a small hostile file cannot make a huge output",
    )
    # Any device decodes a version-3 file to the same pixels (docs/aez-format.md); the CPU by
    # default, as compress.
    add_device(decompress, default="cpu")
    return decompress


def run(args: argparse.Namespace) -> int:
    from aekit.codec.aez import FloatDecodingWarning, decompress_file
    from aekit.data.files import check_images_output, write_images

    check_images_output(args.output, args.force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FloatDecodingWarning)
        images = decompress_file(
            args.file, run_folder=args.run, device=args.device, max_images=args.max_images
        )
    for warning in caught:
        print(f"aekit: warning: {warning.message}", file=sys.stderr)
    write_images(images, args.output, force=args.force)
    print(f"decompressed {len(images):,} images to {args.output}")
    return 0
