"""Train one model per code size and compare each with PCA at the same size."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from aekit.baselines import pca_mse
from aekit.data.folders import load_split
from aekit.fileio import atomic_write_text
from aekit.report.plots import save_png, sweep_figure
from aekit.training.pipeline import make_configs, train_run


def sweep(
    family: str,
    latent_dims: list[int],
    folder: Path,
    *,
    dataset: str = "mnist",
    limit: int | None = None,
    progress: bool = False,
    on_result: Callable[[dict], None] | None = None,
    **overrides,
) -> list[dict]:
    """Train ``family`` at each code size into ``folder/d<size>``; write sweep.csv/.json/.png.

    Each row holds ``latent_dim``, the autoencoder's test ``mse``, ``pca_mse`` (PCA fitted on
    the same training images) and ``train_seconds``.
    """
    train = load_split(dataset, "train", limit=limit)
    test = load_split(dataset, "test")
    rows = []
    for dim in latent_dims:
        model_config, train_config = make_configs(family, dim, **overrides)
        run, _ = train_run(
            model_config, train_config, folder / f"d{dim}", dataset=dataset, limit=limit, progress=progress
        )
        row = {
            "latent_dim": dim,
            "mse": run.metrics["val_mse"],
            "pca_mse": pca_mse(train.images, test.images, dim),
            "train_seconds": run.metrics["train_seconds"],
        }
        rows.append(row)
        if on_result is not None:
            on_result(row)
    atomic_write_text(folder / "sweep.json", json.dumps({"family": family, "results": rows}, indent=2) + "\n")
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(folder / "sweep.csv", table.getvalue())
    save_png(sweep_figure(rows, family), folder / "sweep.png")
    return rows
