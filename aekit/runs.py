"""A run folder: ``config.json`` + ``model.safetensors`` (+ ``metrics.json`` and plots).

Loading rebuilds the model from the config through the registry and then loads the tensors
with safetensors, so nothing is ever unpickled.
"""

from __future__ import annotations

import datetime
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from aekit import __version__
from aekit.builtin import resolve_run_folder
from aekit.data.arrays import Layout
from aekit.data.folders import check_dataset_record
from aekit.errors import AekitError, ParameterError, check_whole
from aekit.fileio import (
    atomic_path,
    atomic_write_text,
    read_json_limited,
    regular_file_size,
    remove_leftovers,
)
from aekit.models import Autoencoder, ModelConfig, build_model
from aekit.models.base import weights_mismatch
from aekit.training.checkpoints import is_epoch_record
from aekit.training.config import TrainConfig
from aekit.training.distributed import resolve_device

# A config.json or metrics.json larger than this is not one aekit wrote.
CONFIG_LIMIT = 16 << 20
# Where 'aekit train' puts runs without --out, and where decompress looks for them.
RUNS_ROOT = Path("runs")


@dataclass(frozen=True)
class RunFolder:
    """A run folder and the name of every file aekit keeps in it: the one place they are named."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    config = property(lambda self: self.path / "config.json")  # model + training settings
    weights = property(lambda self: self.path / "model.safetensors")
    metrics = property(lambda self: self.path / "metrics.json")
    checkpoint = property(lambda self: self.path / "checkpoint.safetensors")  # for --resume
    report = property(lambda self: self.path / "report.html")
    train_codes = property(lambda self: self.path / "train_codes.npy")  # for entropy tables
    entropy = property(lambda self: self.path / "entropy")  # one JSON table per fingerprint
    reconstructions_plot = property(lambda self: self.path / "reconstructions.png")
    latent_plot = property(lambda self: self.path / "latent.png")
    loss_plot = property(lambda self: self.path / "loss.png")
    rate_distortion_plot = property(lambda self: self.path / "rd.png")

    def own_files(self) -> list[Path]:
        """Every file (not folder) that training writes, whether or not it exists."""
        return [
            self.config,
            self.weights,
            self.metrics,
            self.checkpoint,
            self.report,
            self.train_codes,
            self.reconstructions_plot,
            self.latent_plot,
            self.loss_plot,
        ]

    def remove_earlier_run(self) -> None:
        """Delete what an earlier run wrote here: aekit's own files only, anything else stays.
        Reusing a folder then leaves none of the old run (a report, entropy tables, a
        checkpoint) beside the new model."""
        for path in self.own_files():
            path.unlink(missing_ok=True)
        remove_leftovers(self.path)
        shutil.rmtree(self.entropy, ignore_errors=True)


@dataclass
class Run:
    """A trained model with the settings that made it."""

    model: Autoencoder
    training: TrainConfig = field(default_factory=TrainConfig)
    dataset: str | dict = "mnist"  # an IDX dataset's name, or an image folder's settings
    metrics: dict = field(default_factory=dict)
    limit: int | None = None  # trained on the first ``limit`` training images only
    layout: dict | None = None  # how the Python arrays it was fitted on were laid out (aekit.data.arrays)
    run_id: str | None = None  # names this run in its checkpoints, so another run's is refused


def prepare_run_dir(
    out: str | Path | None, family: str, force: bool, root: Path = RUNS_ROOT, parameter: str = "out"
) -> Path:
    """The folder a new run writes to.

    ``out`` given: it must not exist, be empty, or ``force`` must be set, and then an earlier
    run's files there are removed (:meth:`RunFolder.remove_earlier_run`). ``out`` omitted:
    a new, unique folder under ``root`` named after the family and the time.
    """
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ParameterError(parameter, str(path), "is a file, not a folder; choose another")
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise ParameterError(
                parameter, str(path), f"{blocking} is a file, not a folder; choose another place"
            )
        if path.is_dir() and any(path.iterdir()) and not force:
            raise ParameterError(
                parameter,
                str(path),
                "already holds files; choose another folder or pass --force to replace its run",
            )
        path.mkdir(parents=True, exist_ok=True)
        if force:
            RunFolder(path).remove_earlier_run()
        return path
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        path = root / (f"{family}-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise AekitError(f"could not make a new folder under {root}; pass --out DIR")


def save_config(
    folder: str | Path,
    model: ModelConfig,
    training: TrainConfig,
    dataset: str | dict | None,
    limit: int | None,
    layout: dict | None = None,
    run_id: str | None = None,
) -> None:
    """Write ``config.json``: everything needed to rebuild the model and to resume training."""
    config = {
        "aekit_version": __version__,
        "dataset": dataset,
        "limit": limit,
        "model": model.to_dict(),
        "training": training.to_dict(),
    }
    if layout is not None:
        config["layout"] = layout
    if run_id is not None:
        config["run_id"] = run_id
    atomic_write_text(RunFolder(folder).config, json.dumps(config, indent=2) + "\n")


class SavedConfig(NamedTuple):
    """What ``config.json`` holds, every field checked."""

    model: ModelConfig
    training: TrainConfig
    dataset: str | dict | None
    limit: int | None
    layout: dict | None
    run_id: str | None


def load_config(folder: str | Path) -> SavedConfig:
    """The settings saved in ``folder``'s config.json; anything malformed is an AekitError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AekitError(f"{folder} is not a run folder; pass a folder written by 'aekit train'")
    config_path = RunFolder(folder).config
    if not config_path.exists():
        raise AekitError(f"{config_path} is missing; pass a folder written by 'aekit train'")
    config = read_json_limited(config_path, CONFIG_LIMIT, "run's config.json")
    try:
        if not isinstance(config, dict) or "model" not in config:
            raise ValueError("it is not an object with a 'model' entry")
        limit = config.get("limit")
        if limit is not None:
            check_whole("limit", limit)
        layout = config.get("layout")
        if layout is not None:
            Layout.from_dict(layout)
        run_id = config.get("run_id")
        if run_id is not None and not (isinstance(run_id, str) and len(run_id) <= 64):
            raise ValueError(f"run_id {run_id!r} is not a short text")
        return SavedConfig(
            ModelConfig.from_dict(config["model"]),
            TrainConfig.from_dict(config.get("training", {})),
            check_dataset_record(config.get("dataset", "mnist")),
            limit,
            layout,
            run_id,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AekitError(f"{config_path} is damaged ({exc}); retrain or restore the file") from None


def save_run(run: Run, folder: str | Path) -> None:
    """Write config, weights and metrics into ``folder`` (each file atomically)."""
    folder = Path(folder)
    save_config(folder, run.model.config, run.training, run.dataset, run.limit, run.layout, run.run_id)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    with atomic_path(RunFolder(folder).weights) as tmp:
        save_file(
            state,
            str(tmp),
            metadata={"aekit_version": __version__, "family": run.model.config.family},
        )
    if run.metrics:
        atomic_write_text(RunFolder(folder).metrics, json.dumps(run.metrics, indent=2) + "\n")


def load_run(folder: str | Path, device: str = "cpu") -> Run:
    """Rebuild the run saved in ``folder``, its model on ``device`` (cpu, cuda or auto).
    Raises :class:`AekitError` if anything is off. ``folder`` may also name a built-in model
    (:mod:`aekit.builtin`) where no such path exists."""
    folder = resolve_run_folder(folder)
    model_config, training, dataset, limit, layout, run_id = load_config(folder)
    model = build_model(model_config)
    weights_path = RunFolder(folder).weights
    if not weights_path.exists() and not weights_path.is_symlink():
        raise AekitError(f"{weights_path} is missing; the run is incomplete: retrain it")
    regular_file_size(weights_path, "safetensors file")  # a FIFO or device would block the reader
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise AekitError(
            f"{weights_path} is not a readable safetensors file ({exc}); retrain the run"
        ) from None
    check_weights_match(model, state, weights_path)
    model.load_state_dict(state)
    model.to(resolve_device(device)).eval()
    metrics_path = RunFolder(folder).metrics
    metrics = (
        _checked_metrics(read_json_limited(metrics_path, CONFIG_LIMIT), metrics_path)
        if metrics_path.exists()
        else {}
    )
    return Run(model, training, dataset, metrics, limit, layout, run_id)


def _checked_metrics(metrics: object, path: Path) -> dict:
    """``metrics.json`` as training writes it: an object of numbers, strings and nulls, and a
    ``history`` of per-epoch records."""
    scalar = (int, float, str, type(None))
    problem = None
    if not isinstance(metrics, dict):
        problem = "it is not an object"
    else:
        for key, value in metrics.items():
            if key == "history":
                if not isinstance(value, list) or not all(is_epoch_record(row) for row in value):
                    problem = "its history is not a list of epoch records"
            elif not isinstance(value, scalar):
                problem = f"{key!r} is not a number or text"
    if problem:
        raise AekitError(f"{path} is damaged ({problem}); retrain or restore the file")
    return metrics


def check_weights_match(model: Autoencoder, state: dict, path: Path) -> None:
    """Refuse weights (from ``path``) whose names or shapes are not ``model``'s."""
    detail = weights_mismatch(model, state)
    if not detail:
        return
    raise AekitError(
        f"{path} does not fit the model in config.json ({detail}); the folder mixes two runs: retrain it"
    )


def evaluate_run(run: Run, split: str = "test", progress: bool = False) -> dict:
    """``{"mse", "psnr", "n"}`` of the run's model on a split of the data it was trained on."""
    from aekit.data.folders import load_split
    from aekit.inference import reconstruct
    from aekit.metrics import mse, psnr

    data = load_split(run.dataset, split)
    error = mse(data.images, reconstruct(run.model, data.images, progress=progress))
    return {"mse": error, "psnr": psnr(error), "n": len(data)}
