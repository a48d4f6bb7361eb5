"""Whole jobs built from the pieces: train a run and write everything it produces."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from aekit.baselines import pca_mse
from aekit.data.files import write_array
from aekit.data.folders import available_memory, load_split, training_data, training_size
from aekit.data.idx import ImageSet
from aekit.errors import AekitError, ParameterError, check_whole
from aekit.fileio import remove_leftovers
from aekit.inference import encode, reconstruct
from aekit.metrics import psnr
from aekit.models import ModelConfig, build_model
from aekit.models.registry import training_memory
from aekit.report.plots import latent_figure, loss_figure, pick, reconstructions_figure, save_png
from aekit.runs import Run, RunFolder, load_config, prepare_run_dir, save_config, save_run
from aekit.training.checkpoints import Checkpoint, check_resumable, load_checkpoint, save_checkpoint
from aekit.training.config import TrainConfig, make_configs
from aekit.training.loop import EpochRecord, fit, rank_and_world


@dataclass
class TrainingPlan:
    """Everything :func:`train_run` needs, decided before any training starts."""

    model: ModelConfig
    training: TrainConfig
    dataset: str | dict
    limit: int | None
    folder: Path
    resume: bool = False
    run_id: str | None = None  # recorded in config.json and every checkpoint


def plan_new_run(
    family: str = "dense",
    latent_dim: int | None = None,
    *,
    dataset: str = "mnist",
    image_size: int | None = None,
    channels: int | None = None,
    val_fraction: float | None = None,
    skip_bad: bool = False,
    stream: bool = False,
    limit: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    hidden: int | None = None,
    upsample: str | None = None,
    make_folder: bool = True,
    **options,
) -> TrainingPlan:
    """Check every setting, resolve the dataset and make the run folder (``out``, or a new one
    under ``runs/``; with ``force`` an earlier run's files there are removed first).

    ``options`` are :class:`TrainConfig` fields; unset ones come from the family's recipe.
    ``make_folder=False`` (the other processes of a torchrun job) leaves the folder to rank 0.
    """
    model_config, train_config = make_configs(family, latent_dim, hidden=hidden, upsample=upsample, **options)
    if limit is not None:
        check_whole("limit", limit)
    record, shape = training_data(dataset, image_size, channels, val_fraction, skip_bad, stream)
    # A recipe in optimizer steps needs the dataset's size to become epochs: the whole dataset's,
    # even under a limit. A limit is a quick trial, so it keeps the epochs and takes fewer steps;
    # the recipe's steps over a few images would be thousands of tiny epochs, each followed by
    # validation on the whole test set (MNIST, conv, limit 1,000: 469 epochs of 1.6 s, 12.5 minutes).
    model_config, train_config = make_configs(
        family,
        latent_dim,
        hidden=hidden,
        upsample=upsample,
        input_shape=shape,
        n_train=training_size(record),
        **options,
    )
    check_memory(model_config, train_config.batch_size)
    folder = None
    if make_folder:
        folder = prepare_run_dir(out, family, force)
    return TrainingPlan(model_config, train_config, record, limit, folder, run_id=secrets.token_hex(8))


def check_memory(model_config: ModelConfig, batch_size: int) -> None:
    """Refuse, before anything is built, a model and batch whose training would not fit in the
    memory this machine has free."""
    needed, free = training_memory(model_config, batch_size), available_memory()
    if needed > free:
        raise ParameterError(
            "batch_size",
            batch_size,
            f"training this {model_config.family} model on {tuple(model_config.input_shape)} images "
            f"needs about {needed / 1e9:.1f} GB, more than the {free / 1e9:.1f} GB free; use a smaller "
            "batch_size, image_size or hidden",
        )


def plan_resume(folder: str | Path, *, epochs: int | None = None, device: str | None = None) -> TrainingPlan:
    """Continue the run in ``folder`` from its checkpoint with its own settings; ``epochs``
    larger than the run's extends a finished run (a cosine schedule is stretched to the new
    length)."""
    folder = Path(folder)
    model_config, train_config, dataset, limit, _, run_id = load_config(folder)
    changes = {"device": device} if device is not None else {}
    if epochs is not None:
        if epochs < train_config.epochs:
            raise ParameterError(
                "epochs", epochs, f"must be at least the run's {train_config.epochs} to extend it"
            )
        changes["epochs"] = epochs
    train_config = dataclasses.replace(train_config, **changes)
    return TrainingPlan(model_config, train_config, dataset, limit, folder, resume=True, run_id=run_id)


def train_run(
    plan: TrainingPlan,
    *,
    progress: bool = True,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Run | None, str | None]:
    """Train the model that ``plan`` describes and save config, weights, metrics and plots in
    its folder.

    ``config.json`` is written first and ``checkpoint.safetensors`` after every epoch; a
    resumed plan continues from that checkpoint. Returns the run and, if training stopped
    early, the reason. If the loss diverged the last good weights are saved; if
    ``should_stop`` interrupted it, only the checkpoint is, and the run is None.
    In a torch.distributed job every process trains and only rank 0 writes.
    """
    model_config, train_config, dataset, limit = plan.model, plan.training, plan.dataset, plan.limit
    folder, resume = plan.folder, plan.resume
    if resume and rank_and_world()[0] == 0:
        remove_leftovers(folder)  # what a killed checkpoint write left behind
    checkpoint = load_checkpoint(RunFolder(folder).checkpoint, run_id=plan.run_id) if resume else None
    train = load_split(dataset, "train", limit=limit)
    val = load_split(dataset, "test")
    if tuple(train.images.shape[1:]) != tuple(model_config.input_shape):
        raise AekitError(
            f"the dataset's images are {tuple(train.images.shape[1:])} but the model takes "
            f"{tuple(model_config.input_shape)}"
        )
    model = build_model(model_config, seed=train_config.seed)
    if checkpoint is not None:
        check_resumable(checkpoint, model, train_config, len(train), RunFolder(folder).checkpoint)
    writes = rank_and_world()[0] == 0
    if writes:
        save_config(folder, model_config, train_config, dataset, limit, run_id=plan.run_id)

    def keep(state: Checkpoint) -> None:
        if writes:
            save_checkpoint(state, RunFolder(folder).checkpoint, run_id=plan.run_id)

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
    pca_mse = pca_baseline(train.images, val.images, model_config.latent_dim)
    metrics = {
        "val_mse": val_mse,
        "val_psnr": psnr(val_mse),
        "pca_val_mse": pca_mse,
        "pca_val_psnr": None if pca_mse is None else psnr(pca_mse),
        "train_seconds": result.train_seconds,
        "epochs": len(result.history),
        "n_train": len(train),
        "n_val": len(val),
        "stopped": result.stopped,
        "history": [asdict(record) for record in result.history],
    }
    run = Run(model, train_config, dataset, metrics, limit, run_id=plan.run_id)
    if writes:
        save_run(run, folder)
        codes = encode(model, train.images)
        # Kept so that compress can fit entropy tables after the training data moved or went away.
        write_array(codes, RunFolder(folder).train_codes, force=True)
        write_plots(run, train, codes, folder, seed=train_config.seed)
    return run, result.stopped


def pca_baseline(train_images, val_images, components: int) -> float | None:
    """Validation MSE of PCA with ``components`` directions fitted on the same training
    images: what the model must beat to earn its keep. None for streamed data (PCA needs
    every image in memory)."""
    if not (isinstance(train_images, np.ndarray) and isinstance(val_images, np.ndarray)):
        return None
    return pca_mse(train_images, val_images, components)


def write_plots(
    run: Run, data: ImageSet, codes: np.ndarray, folder: Path, *, seed: int = 0, count: int = 5
) -> None:
    """reconstructions.png (``count`` random images), latent.png (the ``codes`` of every
    image), loss.png."""
    files = RunFolder(folder)
    originals = data.images[pick(len(data), count, seed)]
    save_png(reconstructions_figure(originals, reconstruct(run.model, originals)), files.reconstructions_plot)
    title = f"Codes of {len(data):,} training images"
    save_png(latent_figure(codes, data.labels, title=title), files.latent_plot)
    if run.metrics.get("history"):
        save_png(loss_figure(run.metrics["history"]), files.loss_plot)
