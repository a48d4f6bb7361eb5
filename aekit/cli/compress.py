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
        description="Encode images, round the codes and entropy-code them into one .aez file "
        "(format: docs/aez-format.md). Runs of the codec family (aekit train --model codec) serve "
        "--quality 1 (smallest) to 12 (lossless): 1-3 code the code alone at coarser to finer "
        "steps, 4-11 add a residual layer that brings each pixel within half a step of the input "
        "(from 48 levels at 4 down to 2 at 11), 12 is exact. Other runs trained with --quantize "
        "take --step. The first use of a quality or step fits its probability tables on the "
        "run's training images and keeps them in RUN/entropy/, where decompress finds them. "
        "Image files are prepared as the run's training images were.",
    )
    compress.add_argument("run", type=Path, help="run folder")
    compress.add_argument("inputs", nargs="+", help="mnist:test, a .npy array, image files or a folder")
    add_output(compress, "the .aez file to write")
    choice = compress.add_mutually_exclusive_group()
    choice.add_argument(
        "--quality",
        type=int,
        metavar="Q",
        help="codec runs: 1 (smallest files) to 12 (lossless); default 6, about 34 dB on MNIST "
        "(see 'aekit rd RUN' for the bytes and PSNR of each)",
    )
    choice.add_argument(
        "--step",
        type=float,
        help="expert: the quantisation step in code units, larger means smaller files and lower "
        "quality (runs trained with --quantize expect 1, the default for runs outside the codec family)",
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
        quality=args.quality,
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
