"""``aekit eval``: a run's reconstruction error on a split of its dataset, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aekit.cli.options import add_device, progress_wanted


def add_parser(commands) -> argparse.ArgumentParser:
    evaluate = commands.add_parser(
        "eval",
        help="reconstruction error of a run on a dataset split, as JSON",
        description='Print {"mse", "psnr", "n"}: mean squared error per pixel (pixels in [0, 1]), '
        "the PSNR in dB of that mean error, and the number of images.",
    )
    evaluate.add_argument("run", type=Path, help="run folder")
    evaluate.add_argument("--split", choices=["train", "test"], default="test", help="(default: %(default)s)")
    add_device(evaluate)
    return evaluate


def run(args: argparse.Namespace) -> int:
    from aekit.runs import evaluate_run, load_run

    result = evaluate_run(load_run(args.run, device=args.device), args.split, progress=progress_wanted())
    print(json.dumps(result))
    return 0
