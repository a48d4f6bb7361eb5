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
from aekit.runs import prepare_run_dir
from aekit.training.pipeline import plan_new_run, train_run


def sweep(
    family: str,
    latent_dims: list[int],
    *,
    out: str | Path | None = None,
    force: bool = False,
    dataset: str = "mnist",
    limit: int | None = None,
    progress: bool = False,
    on_result: Callable[[dict], None] | None = None,
    **options,
) -> Path:
    """Train ``family`` at each code size into ``out/d<size>``; write sweep.csv/.json/.png
    there and return the folder (``out``, or a new one under ``runs/``).

    Each row holds ``latent_dim``, the autoencoder's test ``mse``, ``pca_mse`` (PCA fitted on
    the same training images) and ``train_seconds``.
    """
    plans = {
        dim: plan_new_run(family, dim, dataset=dataset, limit=limit, make_folder=False, **options)
        for dim in latent_dims
    }
    folder = prepare_run_dir(out, f"sweep-{family}", force)
    train = load_split(dataset, "train", limit=limit)
    test = load_split(dataset, "test")
    rows = []
    for dim, plan in plans.items():
        plan.folder = prepare_run_dir(folder / f"d{dim}", family, force)
        run, _ = train_run(plan, progress=progress)
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
    return folder
