"""``aekit compress``: images into one .aez file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aekit.cli.options import add_device, add_output, progress_wanted


def add_parser(commands) -> argparse.ArgumentParser:
    compress = commands.add_parser(
        "compress",
        help="compress images into one .aez file with a run's encoder and entropy coder",
        description="Encode images, round the codes to multiples of --step and entropy-code them "
        "into one .aez file (format: docs/aez-format.md). The first use of a step fits that "
        "step's probability tables on the run's training codes and keeps them in RUN/entropy/, "
        "where decompress finds them. Runs trained with --quantize expect --step 1. Image files "
        "are prepared as the run's training images were.",
    )
    compress.add_argument("run", type=Path, help="run folder")
    compress.add_argument("inputs", nargs="+", help="mnist:test, a .npy array, image files or a folder")
    add_output(compress, "the .aez file to write")
    compress.add_argument(
        "--step",
        type=float,
        default=1.0,
        help="quantisation step in code units: larger means smaller files and lower quality (default: 1)",
    )
    # The CPU by default: codes computed elsewhere can round differently, and so change the bytes.
    add_device(compress, default="cpu")
    return compress


def run(args: argparse.Namespace) -> int:
    from aekit.codec.aez import compress_file

    result = compress_file(
        args.run,
        args.inputs,
        args.output,
        step=args.step,
        force=args.force,
        device=args.device,
        progress=progress_wanted(),
    )
    if result.warning:
        print(f"aekit: warning: {result.warning}", file=sys.stderr)
    print(
        f"compressed {result.images:,} images to {args.output}: {result.size:,} bytes, "
        f"{result.size / result.images:.1f} per image, {result.psnr:.2f} dB PSNR"
    )
    return 0
