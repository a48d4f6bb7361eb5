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

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from aekit import __version__
from aekit.errors import AekitError, ParameterError
from aekit.fileio import atomic_path, atomic_write_text
from aekit.models import Autoencoder, ModelConfig, build_model
from aekit.training.config import TrainConfig
from aekit.training.distributed import resolve_device

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


def prepare_run_dir(
    out: str | Path | None, family: str, force: bool, root: Path = RUNS_ROOT, parameter: str = "out"
) -> Path:
    """The folder a new run writes to.

    ``out`` given: it must not exist, be empty, or ``force`` must be set. ``out`` omitted:
    a new, unique folder under ``root`` named after the family and the time.
    """
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ParameterError(parameter, str(path), "is a file, not a folder; choose another")
        if path.is_dir() and any(path.iterdir()) and not force:
            raise ParameterError(
                parameter,
                str(path),
                "already holds files; choose another folder or pass --force to replace its run",
            )
        path.mkdir(parents=True, exist_ok=True)
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
    atomic_write_text(RunFolder(folder).config, json.dumps(config, indent=2) + "\n")


def load_config(folder: str | Path) -> tuple[ModelConfig, TrainConfig, str | dict, int | None]:
    """The model config, training config, dataset name and limit saved in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AekitError(f"{folder} is not a run folder; pass a folder written by 'aekit train'")
    config_path = RunFolder(folder).config
    try:
        config = json.loads(config_path.read_text())
        limit = config.get("limit")
        return (
            ModelConfig.from_dict(config["model"]),
            TrainConfig.from_dict(config.get("training", {})),
            config.get("dataset", "mnist"),
            None if limit is None else int(limit),
        )
    except FileNotFoundError:
        raise AekitError(f"{config_path} is missing; pass a folder written by 'aekit train'") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise AekitError(f"{config_path} is damaged ({exc}); retrain or restore the file") from None


def save_run(run: Run, folder: str | Path) -> None:
    """Write config, weights and metrics into ``folder`` (each file atomically)."""
    folder = Path(folder)
    save_config(folder, run.model.config, run.training, run.dataset, run.limit, run.layout)
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
    Raises :class:`AekitError` if anything is off."""
    folder = Path(folder)
    model_config, training, dataset, limit = load_config(folder)
    model = build_model(model_config)
    weights_path = RunFolder(folder).weights
    try:
        state = load_file(str(weights_path))
    except FileNotFoundError:
        raise AekitError(f"{weights_path} is missing; the run is incomplete: retrain it") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise AekitError(
            f"{weights_path} is not a readable safetensors file ({exc}); retrain the run"
        ) from None
    _check_weights_match(model, state, weights_path)
    model.load_state_dict(state)
    model.to(resolve_device(device)).eval()
    metrics = {}
    metrics_path = RunFolder(folder).metrics
    if metrics_path.is_file():
        try:
            metrics = json.loads(metrics_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            metrics = {}
    layout = json.loads(RunFolder(folder).config.read_text()).get("layout")
    if layout is not None and not isinstance(layout, dict):
        raise AekitError(f"{RunFolder(folder).config} has a damaged 'layout'; retrain or restore the file")
    return Run(model=model, training=training, dataset=dataset, metrics=metrics, limit=limit, layout=layout)


def _check_weights_match(model: Autoencoder, state: dict, path: Path) -> None:
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in state.items()}
    if expected == found:
        return
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(unexpected)}" if unexpected else "",
            ", ".join(f"{n} is {found[n]} not {expected[n]}" for n in wrong),
        )
        if part
    )
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
