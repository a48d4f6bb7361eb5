"""The fit loop: Adam on reshuffled mini-batches, validation MSE after every epoch."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .errors import AekitError
from .losses import corrupt, objective
from .models import Autoencoder

SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """Optimisation settings. The defaults are the tutorial's."""

    epochs: int = 20
    batch_size: int = 256
    lr: float = 0.0005
    seed: int = 0
    # Keras' Adam uses 1e-7 where PyTorch uses 1e-8; matching it keeps results comparable.
    adam_eps: float = 1e-7
    schedule: str = "constant"  # or "cosine": the learning rate decays to 0 over the run
    noise: float = 0.0  # denoising: std of Gaussian noise added to training inputs only
    kl_weight: float = 1.0  # weight of the KL term (VAE only)
    device: str = "cpu"

    def validate(self) -> None:
        if self.epochs < 1:
            raise AekitError(f"--epochs must be at least 1 (got {self.epochs})")
        if self.batch_size < 1:
            raise AekitError(f"--batch-size must be at least 1 (got {self.batch_size})")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise AekitError(f"--lr must be a positive number (got {self.lr})")
        if self.schedule not in SCHEDULES:
            raise AekitError(f"--schedule must be one of {', '.join(SCHEDULES)} (got {self.schedule!r})")
        if not (0 <= self.noise < math.inf):
            raise AekitError(f"--noise must be 0 or more (got {self.noise})")
        if not (0 <= self.kl_weight < math.inf):
            raise AekitError(f"--kl-weight must be 0 or more (got {self.kl_weight})")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    val_loss: float
    seconds: float


@dataclass
class TrainResult:
    """What a run of :func:`fit` produced. The model itself is trained in place."""

    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    stopped: str | None = None  # why training ended early, or None if it ran every epoch

    @property
    def val_mse(self) -> float:
        return self.history[-1].val_loss if self.history else float("nan")


def fit(
    model: Autoencoder,
    train_images: np.ndarray,
    val_images: np.ndarray,
    config: TrainConfig,
    *,
    progress: bool = True,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainResult:
    """Train ``model`` to reproduce ``train_images`` (N, C, H, W, float32 in [0, 1]).

    The history's ``loss`` is the training objective (per-pixel MSE, plus the KL term for a
    VAE, on noisy inputs when denoising); ``val_loss`` is always the plain per-pixel MSE of
    the clean validation images.

    Reshuffles every epoch from a generator seeded by ``config.seed``, so the same seed on
    the same machine gives the same weights bit for bit. If the loss becomes NaN or
    infinite, training stops, the weights of the last completed epoch are restored and
    ``TrainResult.stopped`` says what happened.
    """
    config.validate()
    if len(train_images) == 0:
        raise AekitError("no training images; check the dataset")
    device = torch.device(config.device)
    model.to(device).train()
    train = torch.as_tensor(train_images, device=device)
    val = torch.as_tensor(val_images, device=device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.lr, eps=config.adam_eps, **_fast_adam_options(device)
    )
    shuffler = torch.Generator().manual_seed(config.seed)
    sampler = torch.Generator().manual_seed(config.seed + 1)  # noise and VAE sampling
    steps = math.ceil(len(train) / config.batch_size)
    scheduler = _scheduler(optimizer, config, steps * config.epochs)
    result = TrainResult()
    last_good = copy.deepcopy(model.state_dict())
    started = time.perf_counter()

    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        # One gather per epoch, then each batch is a contiguous view: no per-batch copies.
        shuffled = train[torch.randperm(len(train), generator=shuffler).to(device)]
        total = 0.0
        bar = tqdm(total=steps, desc=f"epoch {epoch}/{config.epochs}", leave=False, disable=not progress)
        for start in range(0, len(train), config.batch_size):
            batch = shuffled[start : start + config.batch_size]
            inputs = corrupt(batch, config.noise, sampler)
            loss = objective(model, inputs, batch, kl_weight=config.kl_weight, generator=sampler)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                bar.close()
                model.load_state_dict(last_good)
                result.stopped = (
                    f"loss became {loss_value} in epoch {epoch}; kept the weights of epoch "
                    f"{epoch - 1} (try a smaller --lr)"
                )
                result.train_seconds = time.perf_counter() - started
                return result
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss_value * len(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
        bar.close()
        record = EpochRecord(
            epoch=epoch,
            loss=total / len(train),
            val_loss=mean_squared_error(model, val, config.batch_size),
            seconds=time.perf_counter() - epoch_start,
        )
        model.train()
        result.history.append(record)
        last_good = copy.deepcopy(model.state_dict())
        if on_epoch is not None:
            on_epoch(record)

    result.train_seconds = time.perf_counter() - started
    return result


def mean_squared_error(model: Autoencoder, images: torch.Tensor, batch_size: int = 1024) -> float:
    """Mean squared error per pixel of ``model``'s reconstructions of ``images``."""
    model.eval()
    squared = 0.0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            squared += F.mse_loss(model(batch), batch, reduction="sum").item()
    return squared / images.numel()


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def _fast_adam_options(device: torch.device) -> dict:
    # The fused kernel updates every parameter in one pass; the plain loop is the fallback.
    return {"fused": True} if device.type in ("cpu", "cuda") else {}
