"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one safetensors file: the model's and the optimiser's tensors and the two
random-generator states, with the rest (epoch, batch, schedule, history) as JSON in its
metadata. Nothing is unpickled on loading. Files are written to a temporary name and renamed,
so a crash while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from aekit.errors import AekitError
from aekit.fileio import atomic_path
from aekit.models.base import weights_mismatch

_METADATA_KEY = "aekit_checkpoint"
# 2: the checksum covers the metadata and names the run.
FORMAT = 2
# What CosineAnnealingLR.state_dict() holds, in the PyTorch releases aekit supports.
_SCHEDULER_FIELDS = {
    "T_max",
    "eta_min",
    "base_lrs",
    "last_epoch",
    "verbose",
    "_step_count",
    "_get_lr_called_within_step",
    "_last_lr",
    "_is_initial",
}


@dataclass
class EpochRecord:
    """One finished epoch: mean training loss, validation MSE and seconds taken."""

    epoch: int
    loss: float
    val_loss: float | None  # None when training had no validation images
    seconds: float


@dataclass
class Checkpoint:
    """The state of a training run after ``epoch`` whole epochs and ``batch`` more batches.

    ``shuffler`` is the shuffling generator's state at the start of the unfinished epoch, so
    its order can be drawn again; ``samplers`` holds each process's noise-generator state now
    (one entry per process of a torchrun job, in rank order).
    """

    epoch: int
    batch: int
    model: dict[str, torch.Tensor]
    optimizer: dict
    scheduler: dict | None
    shuffler: torch.Tensor
    samplers: list[torch.Tensor]
    running_loss: float = 0.0
    train_seconds: float = 0.0
    history: list[EpochRecord] = field(default_factory=list)


def save_checkpoint(checkpoint: Checkpoint, path: str | Path, run_id: str | None = None) -> None:
    """Write ``checkpoint`` to ``path`` atomically; ``run_id`` ties it to its run."""
    tensors = {f"model.{name}": t.detach().cpu().contiguous() for name, t in checkpoint.model.items()}
    for index, state in checkpoint.optimizer["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
    tensors["rng.shuffler"] = checkpoint.shuffler
    for rank, state in enumerate(checkpoint.samplers):
        tensors[f"rng.sampler.{rank}"] = state
    metadata = {
        "format": FORMAT,
        "run_id": run_id,
        "epoch": checkpoint.epoch,
        "batch": checkpoint.batch,
        "param_groups": checkpoint.optimizer["param_groups"],
        "scheduler": checkpoint.scheduler,
        "running_loss": checkpoint.running_loss,
        "train_seconds": checkpoint.train_seconds,
        "history": [asdict(record) for record in checkpoint.history],
    }
    metadata["sha256"] = _digest(tensors, metadata)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_METADATA_KEY: json.dumps(metadata)})


def load_checkpoint(path: str | Path, run_id: str | None = None) -> Checkpoint:
    """Read a checkpoint; a missing, damaged or foreign file (another run's, when ``run_id``
    is given) is an :class:`AekitError`, never a fresh start."""
    path = Path(path)
    if not path.is_file():
        raise AekitError(f"{path} is missing; this run has no checkpoint to resume from")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = json.loads((handle.metadata() or {})[_METADATA_KEY])
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise ValueError("it was written by another version of aekit")
        if metadata.get("sha256") != _digest(tensors, metadata):
            raise ValueError("its contents do not match their checksum")
        if run_id is not None and metadata.get("run_id") != run_id:
            raise ValueError("it belongs to another run")
        _check_metadata(metadata)
        model = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value
        groups = metadata["param_groups"]
        for group in groups:
            if "betas" in group:
                group["betas"] = tuple(group["betas"])
        return Checkpoint(
            epoch=int(metadata["epoch"]),
            batch=int(metadata["batch"]),
            model=model,
            optimizer={"state": state, "param_groups": groups},
            scheduler=metadata["scheduler"],
            shuffler=tensors["rng.shuffler"],
            samplers=[tensors[f"rng.sampler.{rank}"] for rank in range(_count(tensors, "rng.sampler."))],
            running_loss=float(metadata["running_loss"]),
            train_seconds=float(metadata["train_seconds"]),
            history=[EpochRecord(**record) for record in metadata["history"]],
        )
    except (SafetensorError, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise AekitError(f"{path} is damaged ({exc}); it cannot be resumed: start the run again") from None


def check_resumable(checkpoint: Checkpoint, model, training, n_train: int, path: Path) -> None:
    """Refuse a checkpoint that does not fit the run it would continue: other weights' names
    or shapes, or a position beyond the run's epochs and batches."""
    steps = -(-n_train // training.batch_size)
    problem = None
    if weights_mismatch(model, checkpoint.model):
        problem = "its weights are not this model's"
    elif checkpoint.epoch > training.epochs or checkpoint.batch >= steps:
        problem = f"it is at epoch {checkpoint.epoch}, batch {checkpoint.batch}, beyond this run"
    elif len(checkpoint.history) != checkpoint.epoch:
        problem = "its history does not match its epoch"
    if problem:
        raise AekitError(f"{path} does not belong to this run ({problem}); start the run again")


def is_epoch_record(row: object) -> bool:
    """Whether ``row`` is an :class:`EpochRecord` as JSON: the four fields, finite numbers
    (``val_loss`` may be null), a whole non-negative epoch."""
    number = _finite_number
    return (
        isinstance(row, dict)
        and set(row) == set(EpochRecord.__dataclass_fields__)
        and type(row["epoch"]) is int
        and row["epoch"] >= 0
        and number(row["loss"])
        and (row["val_loss"] is None or number(row["val_loss"]))
        and number(row["seconds"])
    )


def _check_metadata(metadata: dict) -> None:
    """Types and ranges of everything a checkpoint's metadata holds (ValueError if off)."""

    def whole(value: object) -> bool:
        return type(value) is int and 0 <= value < 2**62

    number = _finite_number
    groups = metadata.get("param_groups")
    history = metadata.get("history")
    scheduler = metadata.get("scheduler")
    checks = {
        "epoch": whole(metadata.get("epoch")),
        "batch": whole(metadata.get("batch")),
        "running_loss": number(metadata.get("running_loss")),
        "train_seconds": number(metadata.get("train_seconds")) and metadata["train_seconds"] >= 0,
        "param_groups": isinstance(groups, list)
        and len(groups) == 1
        and isinstance(groups[0], dict)
        and number(groups[0].get("lr"))
        and groups[0]["lr"] >= 0
        and number(groups[0].get("eps"))
        and isinstance(groups[0].get("betas"), list)
        and len(groups[0]["betas"]) == 2
        and all(number(b) for b in groups[0]["betas"]),
        # load_state_dict copies these onto the scheduler: only plain numbers may come in.
        "scheduler": scheduler is None
        or (
            isinstance(scheduler, dict)
            and set(scheduler) <= _SCHEDULER_FIELDS
            and all(
                isinstance(v, bool) or number(v) or (isinstance(v, list) and all(number(x) for x in v))
                for v in scheduler.values()
            )
        ),
        "history": isinstance(history, list) and all(is_epoch_record(row) for row in history),
    }
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        raise ValueError(f"its {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} malformed")


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def tensor_digest(tensors: dict[str, torch.Tensor]) -> hashlib._Hash:
    """SHA-256 over every tensor in name order: each name in UTF-8, then its values'
    little-endian bytes. Used to check checkpoints and to fingerprint models in .aez files."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        values = tensors[name].detach().cpu().contiguous().numpy()
        digest.update(name.encode())
        digest.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest


def _digest(tensors: dict[str, torch.Tensor], metadata: dict) -> str:
    # safetensors checks the layout but not the values; a flipped bit in a weight would load.
    # The metadata (all but the checksum itself) is covered too, as canonical JSON.
    digest = tensor_digest(tensors)
    rest = {k: v for k, v in metadata.items() if k != "sha256"}
    digest.update(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def _count(tensors: dict[str, torch.Tensor], prefix: str) -> int:
    count = sum(1 for name in tensors if name.startswith(prefix))
    if count == 0:
        raise ValueError(f"no {prefix}* tensors")
    return count
