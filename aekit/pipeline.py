"""Whole jobs built from the pieces: train a run and write everything it produces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .datasets import DATASETS, ImageSet, load_dataset
from .inference import encode, reconstruct
from .metrics import psnr
from .models import ModelConfig, build_model, family_recipe
from .plots import latent_figure, loss_figure, reconstructions_figure, save_png
from .runs import Run, save_run
from .train import EpochRecord, TrainConfig, fit


def make_configs(family: str, latent_dim: int, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """Model and training configs for ``family``: the tutorial's defaults, then the family's
    recipe, then every override that is not None (the user's explicit choices)."""
    settings = {**family_recipe(family), **{k: v for k, v in overrides.items() if v is not None}}
    model = ModelConfig(
        family=family, latent_dim=latent_dim, hidden=settings.pop("hidden", ModelConfig.hidden)
    )
    return model, TrainConfig(**settings)


def train_run(
    model_config: ModelConfig,
    train_config: TrainConfig,
    folder: Path,
    *,
    dataset: str = "mnist",
    limit: int | None = None,
    progress: bool = True,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> tuple[Run, str | None]:
    """Train a model on ``dataset`` and save config, weights, metrics and plots in ``folder``.

    ``limit`` trains on the first N training images only. Returns the run and, if training
    stopped early (the loss diverged), the reason; the last good weights are saved either way.
    """
    train_config.validate()
    spec = DATASETS[dataset]
    train = load_dataset("train", spec, limit=limit)
    val = load_dataset("test", spec)
    model = build_model(model_config, seed=train_config.seed)
    result = fit(model, train.images, val.images, train_config, progress=progress, on_epoch=on_epoch)
    model.cpu()
    val_mse = result.val_mse
    metrics = {
        "val_mse": val_mse,
        "val_psnr": psnr(val_mse),
        "train_seconds": result.train_seconds,
        "epochs": len(result.history),
        "n_train": len(train),
        "n_val": len(val),
        "stopped": result.stopped,
        "history": [asdict(record) for record in result.history],
    }
    run = Run(model=model, training=train_config, dataset=dataset, metrics=metrics)
    save_run(run, folder)
    write_plots(run, train, folder, seed=train_config.seed)
    return run, result.stopped


def write_plots(run: Run, data: ImageSet, folder: Path, *, seed: int = 0, count: int = 5) -> None:
    """reconstructions.png (``count`` random images), latent.png (every image), loss.png."""
    picks = np.random.default_rng(seed).choice(len(data), size=min(count, len(data)), replace=False)
    originals = data.images[picks]
    save_png(
        reconstructions_figure(originals, reconstruct(run.model, originals)),
        folder / "reconstructions.png",
    )
    codes = encode(run.model, data.images)
    save_png(
        latent_figure(codes, data.labels, title=f"Codes of {len(data):,} training images"),
        folder / "latent.png",
    )
    if run.metrics.get("history"):
        save_png(loss_figure(run.metrics["history"]), folder / "loss.png")
