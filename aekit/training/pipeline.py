"""Whole jobs built from the pieces: train a run and write everything it produces."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from aekit.codec.aez import ENTROPY_FOLDER
from aekit.data.folders import load_split
from aekit.data.idx import ImageSet
from aekit.errors import AekitError
from aekit.inference import encode, reconstruct
from aekit.metrics import psnr
from aekit.models import ModelConfig, build_model, family_recipe
from aekit.report.html import REPORT_FILE
from aekit.report.plots import latent_figure, loss_figure, reconstructions_figure, save_png
from aekit.runs import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, Run, save_config, save_run
from aekit.training.checkpoints import CHECKPOINT_FILE, Checkpoint, load_checkpoint, save_checkpoint
from aekit.training.loop import EpochRecord, TrainConfig, fit, rank_and_world


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
    dataset: str | dict = "mnist",
    limit: int | None = None,
    progress: bool = True,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Run | None, str | None]:
    """Train a model on ``dataset`` and save config, weights, metrics and plots in ``folder``.

    ``dataset`` is an IDX dataset's name or an image folder's settings
    (:meth:`aekit.data.folders.FolderDataset.to_dict`); ``model_config.input_shape`` must match
    its images. ``limit`` trains on the first N training images only. ``config.json`` is written first
    and ``checkpoint.safetensors`` after every epoch; ``resume`` continues from that
    checkpoint (the configs must be the ones in ``config.json``). Returns the run and, if
    training stopped early, the reason. If the loss diverged the last good weights are saved;
    if ``should_stop`` interrupted it, only the checkpoint is, and the run is None.
    In a torch.distributed job every process trains and only rank 0 writes.
    """
    train_config.validate()
    folder = Path(folder)
    checkpoint = load_checkpoint(folder / CHECKPOINT_FILE) if resume else None
    train = load_split(dataset, "train", limit=limit)
    val = load_split(dataset, "test")
    if tuple(train.images.shape[1:]) != tuple(model_config.input_shape):
        raise AekitError(
            f"the dataset's images are {tuple(train.images.shape[1:])} but the model takes "
            f"{tuple(model_config.input_shape)}"
        )
    model = build_model(model_config, seed=train_config.seed)
    writes = rank_and_world()[0] == 0
    if writes and not resume:
        save_config(folder, model_config, train_config, dataset, limit)

    def keep(state: Checkpoint) -> None:
        if writes:
            save_checkpoint(state, folder / CHECKPOINT_FILE)

    result = fit(
        model,
        train.images,
        val.images,
        train_config,
        progress=progress,
        on_epoch=on_epoch,
        resume=checkpoint,
        on_checkpoint=keep,
        should_stop=should_stop,
    )
    if result.interrupted:
        return None, result.stopped
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
    run = Run(model=model, training=train_config, dataset=dataset, metrics=metrics, limit=limit)
    if writes:
        save_run(run, folder)
        write_plots(run, train, folder, seed=train_config.seed)
    return run, result.stopped


PLOT_FILES = ("reconstructions.png", "latent.png", "loss.png")


def remove_earlier_run(folder: Path) -> None:
    """Delete what an earlier run wrote into ``folder``: aekit's own files only, anything else
    stays. Reusing a folder then leaves none of the old run (a report, entropy tables, a
    checkpoint) beside the new model."""
    for name in (CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, CHECKPOINT_FILE, REPORT_FILE, *PLOT_FILES):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / ENTROPY_FOLDER, ignore_errors=True)


def write_plots(run: Run, data: ImageSet, folder: Path, *, seed: int = 0, count: int = 5) -> None:
    """reconstructions.png (``count`` random images), latent.png (every image), loss.png."""
    reconstructions, latent, loss = (folder / name for name in PLOT_FILES)
    picks = np.random.default_rng(seed).choice(len(data), size=min(count, len(data)), replace=False)
    originals = data.images[picks]
    save_png(
        reconstructions_figure(originals, reconstruct(run.model, originals)),
        reconstructions,
    )
    codes = encode(run.model, data.images)
    save_png(
        latent_figure(codes, data.labels, title=f"Codes of {len(data):,} training images"),
        latent,
    )
    if run.metrics.get("history"):
        save_png(loss_figure(run.metrics["history"]), loss)
