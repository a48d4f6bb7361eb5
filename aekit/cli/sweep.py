"""``aekit sweep``: one model per code size, against PCA."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_training_options, progress_wanted, training_options


def _size_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 2,4,8, got {text!r}") from None


def add_parser(commands) -> argparse.ArgumentParser:
    sweeper = commands.add_parser(
        "sweep",
        help="train one model per code size and compare with PCA",
        description="Train --model at each of --latent-dims; write sweep.csv, sweep.json and sweep.png "
        "(test MSE against code size, with PCA at the same sizes) into --out, one run folder per size.",
    )
    sweeper.add_argument(
        "--latent-dims",
        type=_size_list,
        default=[2, 4, 8, 16, 32, 64],
        help="comma-separated code sizes (default: 2,4,8,16,32,64)",
    )
    add_training_options(sweeper)
    sweeper.add_argument("--out", type=Path, help="folder (default: a new folder under runs/)")
    sweeper.add_argument(
        "--force", action="store_true", help="reuse an --out folder that already holds files"
    )
    return sweeper


def run(args: argparse.Namespace) -> int:
    from aekit.training.sweep import sweep

    def report(row: dict) -> None:
        print(
            f"latent {row['latent_dim']:>3}  mse {row['mse']:.5f}  pca {row['pca_mse']:.5f}  "
            f"({row['train_seconds']:.0f}s)",
            flush=True,
        )

    folder = sweep(
        args.model,
        args.latent_dims,
        out=args.out,
        force=args.force,
        limit=args.limit,
        progress=progress_wanted(),
        on_result=report,
        **training_options(args),
    )
    print(f"wrote sweep.csv, sweep.json and sweep.png to {folder}")
    return 0
