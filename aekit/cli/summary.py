"""``aekit summary``: the layer tables of a run, or of the model ``train`` would build."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.models.recipes import model_families


def add_parser(commands) -> argparse.ArgumentParser:
    summary = commands.add_parser(
        "summary",
        help="print the layer tables of a run (or of the model 'train' would build)",
        description="Print the encoder, decoder and autoencoder tables: layers, output shapes, parameters. "
        "Without RUN: the untrained model that 'aekit train' builds with the same --model, --latent-dim "
        "and --hidden.",
    )
    summary.add_argument("run", nargs="?", type=Path, help="a run folder; omit for an untrained model")
    summary.add_argument(
        "--model", choices=model_families(), default="dense", help="family when no RUN is given"
    )
    summary.add_argument(
        "--latent-dim", type=int, help="code size when no RUN is given (default: the family's, 2 for most)"
    )
    summary.add_argument("--hidden", type=int, help="width when no RUN is given (default: the family's)")
    return summary


def run(args: argparse.Namespace) -> int:
    from aekit.models import ModelConfig, build_model
    from aekit.models.summary import summarize
    from aekit.runs import load_run

    if args.run is not None:
        model = load_run(args.run).model
    else:
        model = build_model(ModelConfig(args.model, latent_dim=args.latent_dim, hidden=args.hidden))
    print(summarize(model))
    return 0
