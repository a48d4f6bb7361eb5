"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one safetensors file: the model's and the optimiser's tensors and the two
random-generator states, with the rest (epoch, batch, schedule, history) as JSON in its
metadata. Nothing is unpickled on loading. Files are written to a temporary name and renamed,
so a crash while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from aekit.errors import AekitError
from aekit.fileio import atomic_path

_METADATA_KEY = "aekit_checkpoint"


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


def save_checkpoint(checkpoint: Checkpoint, path: str | Path) -> None:
    """Write ``checkpoint`` to ``path`` atomically."""
    tensors = {f"model.{name}": t.detach().cpu().contiguous() for name, t in checkpoint.model.items()}
    for index, state in checkpoint.optimizer["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
    tensors["rng.shuffler"] = checkpoint.shuffler
    for rank, state in enumerate(checkpoint.samplers):
        tensors[f"rng.sampler.{rank}"] = state
    metadata = {
        "sha256": _digest(tensors),
        "epoch": checkpoint.epoch,
        "batch": checkpoint.batch,
        "param_groups": checkpoint.optimizer["param_groups"],
        "scheduler": checkpoint.scheduler,
        "running_loss": checkpoint.running_loss,
        "train_seconds": checkpoint.train_seconds,
        "history": [asdict(record) for record in checkpoint.history],
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_METADATA_KEY: json.dumps(metadata)})


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint; a missing or damaged file is an :class:`AekitError`, never a fresh start."""
    path = Path(path)
    if not path.is_file():
        raise AekitError(f"{path} is missing; this run has no checkpoint to resume from")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = json.loads((handle.metadata() or {})[_METADATA_KEY])
        if metadata["sha256"] != _digest(tensors):
            raise ValueError("its tensors do not match their checksum")
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
    except (SafetensorError, OSError, ValueError, KeyError, TypeError) as exc:
        raise AekitError(f"{path} is damaged ({exc}); it cannot be resumed: start the run again") from None


def tensor_digest(tensors: dict[str, torch.Tensor]) -> hashlib._Hash:
    """SHA-256 over every tensor in name order: each name in UTF-8, then its values'
    little-endian bytes. Used to check checkpoints and to fingerprint models in .aez files."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        values = tensors[name].detach().cpu().contiguous().numpy()
        digest.update(name.encode())
        digest.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest


def _digest(tensors: dict[str, torch.Tensor]) -> str:
    # safetensors checks the layout but not the values; a flipped bit in a weight would load.
    return tensor_digest(tensors).hexdigest()


def _count(tensors: dict[str, torch.Tensor], prefix: str) -> int:
    count = sum(1 for name in tensors if name.startswith(prefix))
    if count == 0:
        raise ValueError(f"no {prefix}* tensors")
    return count
