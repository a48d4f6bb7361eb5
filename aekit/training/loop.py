"""The fit loop: Adam on reshuffled mini-batches, validation MSE after every epoch."""

from __future__ import annotations

import copy
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from aekit.errors import AekitError, ParameterError, check_whole
from aekit.models import Autoencoder
from aekit.training.callbacks import Callback
from aekit.training.checkpoints import Checkpoint, EpochRecord
from aekit.training.config import TrainConfig
from aekit.training.graphs import GraphedStep
from aekit.training.losses import corrupt, draws_random_numbers, objective
from aekit.training.precision import autocast


@dataclass
class TrainResult:
    """What a run of :func:`fit` produced. The model itself is trained in place."""

    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    stopped: str | None = None  # why training ended early, or None if it ran every epoch
    interrupted: bool = False  # stopped on request (a checkpoint was offered), not by divergence
    early_stop: str | None = None  # a callback ended training at an epoch boundary, and why

    @property
    def val_mse(self) -> float | None:
        """The last validation error (None without validation images)."""
        return last_measured([r.val_loss for r in self.history])


def last_measured(val_losses: Sequence[float | None]) -> float | None:
    """The last of a history's validation errors that was measured: fit's ``validation_freq``
    leaves None after the epochs it skips, and every epoch without validation images."""
    return next((loss for loss in reversed(val_losses) if loss is not None), None)


def fit(
    model: Autoencoder,
    train_images: np.ndarray,
    val_images: np.ndarray | None,
    config: TrainConfig,
    *,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    on_epoch: Callable[[EpochRecord], None] | None = None,
    resume: Checkpoint | None = None,
    on_checkpoint: Callable[[Checkpoint], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    cuda_graphs: bool = True,
    validation_freq: int = 1,
) -> TrainResult:
    """Train ``model`` to reproduce ``train_images`` (N, C, H, W, float32 in [0, 1]).

    The history's ``loss`` is the training objective (per-pixel MSE, plus the KL term for a
    VAE, on noisy inputs when denoising); ``val_loss`` is always the plain per-pixel MSE of
    the clean validation images (None when ``val_images`` is None). With ``validation_freq``
    N it is measured after every N-th epoch and the last only (None after the others), as
    Keras' argument of that name does: for many short epochs and a large validation set.

    ``callbacks`` (:mod:`aekit.training.callbacks`) see the model before training, after
    every epoch (where any of them may stop training at that epoch boundary) and at the end.

    Reshuffles every epoch from a generator seeded by ``config.seed``, so the same seed on
    the same machine gives the same weights bit for bit. If the loss becomes NaN or
    infinite, training stops, the weights of the last completed epoch are restored and
    ``TrainResult.stopped`` says what happened.

    ``on_checkpoint`` receives a :class:`Checkpoint` after every epoch, and mid-epoch when
    ``should_stop()`` turns true (checked after every batch; training then returns). Passing
    a checkpoint as ``resume`` continues exactly where it was taken: the same weights, bit
    for bit, as a run that was never interrupted.

    Inside an initialised ``torch.distributed`` process group the model is wrapped in
    DistributedDataParallel: every process draws the same shuffled order and takes its share
    of each batch, so the global batch, and the result, match a single process.

    On a CUDA GPU, a single process replays each step from a CUDA graph
    (:mod:`aekit.training.graphs`) unless ``cuda_graphs`` is False or the step draws random
    numbers. The same kernels run either way (benchmarks/gpu.py found identical weights).
    """
    config.validate()
    check_whole("validation_freq", validation_freq, 1)
    if len(train_images) == 0:
        raise AekitError("no training images; check the dataset")
    watching = [c for c in callbacks if getattr(c, "monitor", None) == "val_loss"]
    if watching and val_images is None:
        needs = f"{type(watching[0]).__name__} needs validation data; pass validation_data to fit"
        raise ParameterError("monitor", "val_loss", needs)
    device = torch.device(config.device)
    model.to(device).train()
    rank, world = rank_and_world()
    # Arrays move to the device once; streamed images (aekit.data.folders.StreamedImages) stay on disk.
    train = torch.as_tensor(train_images, device=device) if _in_memory(train_images) else train_images
    val = torch.as_tensor(val_images, device=device) if _in_memory(val_images) else val_images
    if resume is None:
        model.prepare(_prepare_sample(train), seed=config.seed)
    for callback in callbacks:
        callback.on_train_begin(model)
    mean_image_mse = _mean_image_mse(train, val)
    step_loss: nn.Module = _StepLoss(model, config)
    if world > 1:
        step_loss = DistributedDataParallel(step_loss)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=config.lr,
        betas=(0.9, config.adam_beta2),
        eps=config.adam_eps,
        **_fast_adam_options(device),
    )
    shuffler = torch.Generator().manual_seed(config.seed)
    # Noise, VAE and quantisation samples are drawn where the network runs: no host copies.
    sampler = torch.Generator(device=device).manual_seed(config.seed + 1 + rank)
    steps = math.ceil(len(train) / config.batch_size)
    scheduler = _scheduler(optimizer, config, steps * config.epochs)
    result = TrainResult()
    graphed = cuda_graphs and device.type == "cuda" and world == 1
    graphed = graphed and not draws_random_numbers(model, noise=config.noise, quantize=config.quantize)

    def train_step(batch: torch.Tensor, warmup: float = 1.0) -> torch.Tensor:
        # Autocast's cache of cast weights must not outlive a graph's recording; each weight
        # is cast once per step anyway, so it saves nothing here.
        with autocast(device, config.precision, cache_enabled=not graphed):
            loss = step_loss(corrupt(batch, config.noise, sampler), batch, sampler, warmup)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    step = GraphedStep(train_step, optimizer, device, config.batch_size) if graphed else train_step
    first_epoch, first_batch, total, earlier_seconds = 1, 0, 0.0, 0.0
    if resume is not None:
        model.load_state_dict(resume.model)
        optimizer.load_state_dict(resume.optimizer)
        if scheduler is not None and resume.scheduler is not None:
            scheduler.load_state_dict(resume.scheduler)
            if isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
                # A run extended to more epochs decays over them all (a warm-up's schedule is
                # rebuilt from the new length already).
                scheduler.T_max = steps * config.epochs
        shuffler.set_state(resume.shuffler)
        if len(resume.samplers) != world:
            raise AekitError(
                f"the checkpoint was saved by {len(resume.samplers)} process(es); resume it with as many"
            )
        _restore_sampler(sampler, resume.samplers[rank], config.seed + 1 + rank + resume.epoch)
        result.history = list(resume.history)
        first_epoch, first_batch = resume.epoch + 1, resume.batch
        total, earlier_seconds = resume.running_loss, resume.train_seconds
    last_good = copy.deepcopy(model.state_dict())
    started = time.perf_counter() - earlier_seconds

    def checkpoint(epoch: int, batch: int, shuffler_state: torch.Tensor, weights: dict) -> Checkpoint:
        return Checkpoint(
            epoch=epoch,
            batch=batch,
            model=weights,
            optimizer=copy.deepcopy(optimizer.state_dict()),
            scheduler=None if scheduler is None else scheduler.state_dict(),
            shuffler=shuffler_state,
            samplers=_gather(sampler.get_state(), world, device),
            running_loss=total,
            train_seconds=time.perf_counter() - started,
            history=list(result.history),
        )

    for epoch in range(first_epoch, config.epochs + 1):
        epoch_start = time.perf_counter()
        epoch_shuffler_state = shuffler.get_state()  # a mid-epoch checkpoint redraws this order
        order = torch.randperm(len(train), generator=shuffler)
        bar = tqdm(
            total=steps,
            initial=first_batch,
            desc=f"epoch {epoch}/{config.epochs}",
            leave=False,
            disable=not progress,
        )
        batches = _epoch_batches(train, order, first_batch, config.batch_size, (rank, world), device)
        running = torch.tensor(total, dtype=torch.float64, device=device)
        for index, batch in zip(range(first_batch, steps), batches, strict=True):
            if config.augment:
                batch = _augmented(batch, config.seed, epoch, index)
            if graphed:
                loss = step(batch)  # a graphed step draws nothing and ignores the warm-up
            else:
                loss = step(batch, _warmup((epoch - 1) * steps + index, steps * config.epochs))
            if scheduler is not None:
                scheduler.step()
            # The loss is summed where it was computed and read back only every few steps:
            # reading it every step would make the host wait for a GPU after each batch.
            running += loss.detach().double() * len(batch)
            last = index == steps - 1
            stop = _agree([bool(should_stop and should_stop())], world, device)[0]
            if last or stop or (index + 1) % _READ_LOSS_EVERY == 0:
                total = running.item()
                (diverged,) = _agree([not math.isfinite(total)], world, device)
                if diverged:
                    bar.close()
                    model.load_state_dict(last_good)
                    result.stopped = (
                        f"loss became {loss.item()} in epoch {epoch}; kept the weights of epoch "
                        f"{epoch - 1} (try a smaller --lr)"
                    )
                    result.train_seconds = time.perf_counter() - started
                    return result
                bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
            bar.update(1)
            if stop:
                bar.close()
                if on_checkpoint is not None:
                    weights = copy.deepcopy(model.state_dict())
                    on_checkpoint(checkpoint(epoch - 1, index + 1, epoch_shuffler_state, weights))
                result.stopped = f"interrupted in epoch {epoch}"
                result.interrupted = True
                result.train_seconds = time.perf_counter() - started
                return result
        bar.close()
        validate = val is not None and (epoch % validation_freq == 0 or epoch == config.epochs)
        record = EpochRecord(
            epoch=epoch,
            loss=total / (len(train) // world),
            val_loss=mean_squared_error(model, val, config.batch_size, progress) if validate else None,
            seconds=time.perf_counter() - epoch_start,
        )
        first_batch, total = 0, 0.0
        model.train()
        result.history.append(record)
        last_good = copy.deepcopy(model.state_dict())
        if on_epoch is not None:
            on_epoch(record)
        if on_checkpoint is not None:
            # last_good is this epoch's copy of the weights, never changed in place: share it.
            on_checkpoint(checkpoint(epoch, 0, shuffler.get_state(), last_good))
        stops = [type(c).__name__ for c in callbacks if c.on_epoch_end(record, model)]
        if stops:
            result.early_stop = f"{stops[0]} stopped training after epoch {epoch}"
            break
        if collapsed(record, mean_image_mse, epoch * steps):
            result.stopped = (
                f"training collapsed: after epoch {epoch} the reconstructions are no better than the "
                f"average training image (val MSE {record.val_loss:.5f}, the average image's "
                f"{mean_image_mse:.5f}); try a smaller lr, a smaller rate_weight or more hidden units"
            )
            break

    for callback in callbacks:
        callback.on_train_end(model)
    result.train_seconds = time.perf_counter() - started
    return result


class _StepLoss(nn.Module):
    """The training objective as a module, so DistributedDataParallel can wrap it: DDP only
    synchronises gradients of what runs inside its ``forward``."""

    def __init__(self, model: Autoencoder, config: TrainConfig):
        super().__init__()
        self.model = model
        self.config = config

    def forward(
        self, inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator, warmup: float
    ) -> torch.Tensor:
        return objective(
            self.model,
            inputs,
            targets,
            kl_weight=self.config.kl_weight,
            quantize=self.config.quantize,
            rate_weight=self.config.rate_weight,
            generator=generator,
            warmup=warmup,
        )


# Compression training brings in its rounding noise and rate term over this share of the steps.
QUANTIZE_WARMUP = 0.1


def _warmup(step: int, total_steps: int) -> float:
    """How far the quantisation warm-up has got at ``step``: 0 at the start, 1 from 10% on."""
    return min(1.0, step / max(1.0, QUANTIZE_WARMUP * total_steps))


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes: (0, 1) outside torch.distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


# How many steps pass between reads of the running loss (divergence check, progress bar).
_READ_LOSS_EVERY = 50


def _restore_sampler(sampler: torch.Generator, state: torch.Tensor, fallback_seed: int) -> None:
    """Continue a checkpoint's random stream; a stream saved on another kind of device (whose
    generator state has another form) restarts from a seed derived from the position."""
    try:
        sampler.set_state(state)
    except RuntimeError:
        sampler.manual_seed(fallback_seed)


def _collective_device(device: torch.device) -> torch.device:
    # NCCL exchanges only GPU tensors; gloo only CPU ones.
    return device if dist.get_backend() == "nccl" else torch.device("cpu")


def _gather(state: torch.Tensor, world: int, device: torch.device) -> list[torch.Tensor]:
    """Every process's copy of ``state`` (a generator state), in rank order."""
    if world == 1:
        return [state]
    state = state.to(_collective_device(device))
    states = [torch.empty_like(state) for _ in range(world)]
    dist.all_gather(states, state)
    return [s.cpu() for s in states]


def _agree(flags: list[bool], world: int, device: torch.device) -> list[bool]:
    """Each flag true if it is true in any process, so every process takes the same branch."""
    if world == 1:
        return flags
    tensor = torch.tensor(flags, dtype=torch.int32, device=_collective_device(device))
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(v) for v in tensor.tolist()]


def mean_squared_error(model: Autoencoder, images, batch_size: int = 1024, progress: bool = False) -> float:
    """Mean squared error per pixel of ``model``'s reconstructions of ``images`` (a tensor, an
    array, or anything that slices into arrays, such as streamed images)."""
    model.eval()
    device = next(model.parameters()).device
    squared, pixels = torch.zeros((), dtype=torch.float64, device=device), 0
    with torch.inference_mode():
        starts = range(0, len(images), batch_size)
        for start in tqdm(starts, desc="validating", leave=False, disable=not progress or len(starts) < 2):
            batch = torch.as_tensor(images[start : start + batch_size]).to(device)
            squared += F.mse_loss(model(batch), batch, reduction="sum").double()
            pixels += batch.numel()
    return squared.item() / pixels


# A run whose validation error stays this close to the average image's after this many
# epochs and optimizer steps has stopped using its codes: every image decodes to (nearly)
# the same picture. (Before that, a short trial run may simply not have learned yet.)
COLLAPSE_RATIO = 0.98
COLLAPSE_EPOCH = 3
COLLAPSE_STEPS = 200


def collapsed(record: EpochRecord, mean_image_mse: float | None, steps_done: int) -> bool:
    """Whether training has collapsed to decoding every image as the average image."""
    return (
        mean_image_mse is not None
        and record.val_loss is not None
        and record.epoch >= COLLAPSE_EPOCH
        and steps_done >= COLLAPSE_STEPS
        and record.val_loss >= COLLAPSE_RATIO * mean_image_mse
    )


def _mean_image_mse(train, val) -> float | None:
    """Validation MSE of predicting every image as the average training image (in-memory
    data only; None otherwise)."""
    if val is None or not (_in_memory(train) and _in_memory(val)):
        return None
    with torch.no_grad():
        return float(((val - train.mean(dim=0, keepdim=True)) ** 2).mean())


def _augmented(batch: torch.Tensor, seed: int, epoch: int, index: int) -> torch.Tensor:
    """``batch`` in one of the 8 orientations of a square (flips, quarter turns) or, for
    other shapes, of the 4 that keep it (flips, half turn), then a window of 3/4 to all of it
    enlarged back to full size, all chosen from the batch's position alone: no random state to
    keep for an exact resume."""
    chooser = random.Random(f"{seed}:{epoch}:{index}")
    choice = chooser.randrange(8)
    square = batch.shape[-1] == batch.shape[-2]
    turns = choice % 4 if square else 2 * (choice % 2)
    if turns:
        batch = torch.rot90(batch, turns, dims=(-2, -1))
    if choice >= 4:
        batch = batch.flip(-1)
    height, width = batch.shape[-2:]
    scale = chooser.uniform(ZOOM_SMALLEST_WINDOW, 1.0)
    rows, columns = max(1, round(scale * height)), max(1, round(scale * width))
    top, left = chooser.randint(0, height - rows), chooser.randint(0, width - columns)
    return _zoomed(batch, top, left, rows, columns)


# Measured with benchmarks/photos.py (hybrid; 8, 32 and 64 numbers): windows of 3/4 to all of
# each side gave 19.55, 22.27 and 23.47 dB on validation crops and 16.16, 19.14 and 20.59 dB on
# unseen photos, against 19.39, 21.97, 23.26 and 15.94, 18.78, 20.35 with flips and turns
# alone. Shifts of up to 3 or 6 pixels instead gave 19.45 and 16.2 at 8 numbers.
ZOOM_SMALLEST_WINDOW = 0.75


def _zoomed(batch: torch.Tensor, top: int, left: int, rows: int, columns: int) -> torch.Tensor:
    """The window of ``rows`` x ``columns`` pixels at (``top``, ``left``) of every image,
    resized (bilinear) to the batch's height and width."""
    height, width = batch.shape[-2:]
    if (rows, columns) == (height, width):
        return batch
    window = batch[..., top : top + rows, left : left + columns]
    return F.interpolate(window, size=(height, width), mode="bilinear", align_corners=False)


# Images a family's prepare() sees of a training set streamed from disk.
_STREAMED_PREPARE_SAMPLE = 4096


def _prepare_sample(train):
    if _in_memory(train):
        return train
    count = min(len(train), _STREAMED_PREPARE_SAMPLE)
    chosen = np.random.default_rng(0).choice(len(train), count, replace=False)
    return np.stack([np.asarray(train[int(i)]) for i in np.sort(chosen)])


def _in_memory(images) -> bool:
    return isinstance(images, np.ndarray | torch.Tensor)


def _epoch_batches(train, order: torch.Tensor, first_batch: int, batch_size: int, group, device):
    """One epoch's batches in ``order``, from batch ``first_batch`` on; each process of a
    distributed ``group`` (rank, world) gets every world-th row of each batch.

    In memory: each batch is gathered straight into one contiguous tensor. (Gathering the
    whole epoch at once is no faster and would hold a second copy of the training set.)
    Streamed: DataLoader worker processes read the same batches from disk.
    """
    rank, world = group
    starts = range(first_batch * batch_size, len(order), batch_size)
    if _in_memory(train):
        order = order.to(device)
        for start in starts:
            yield train[order[start : start + batch_size][rank::world]]
        return
    chunks = [order[start : start + batch_size][rank::world].tolist() for start in starts]
    workers = min(4, os.cpu_count() or 1)
    loader = torch.utils.data.DataLoader(train, batch_sampler=chunks, num_workers=workers)
    for batch in loader:
        yield batch.to(device)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.lr_warmup > 0:
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, total_steps, config.lr_warmup, config.schedule)
        )
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None


def lr_factor(step: int, total_steps: int, warmup: float, schedule: str) -> float:
    """The learning rate at ``step`` (counted from 0) as a fraction of ``lr``: a linear climb over
    the first ``warmup`` of the steps, then constant or a cosine decay to 0 over the rest."""
    warmup_steps = max(1, round(warmup * total_steps))
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule != "cosine":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))


def _fast_adam_options(device: torch.device) -> dict:
    # The fused kernel updates every parameter in one pass; the plain loop is the fallback.
    return {"fused": True} if device.type in ("cpu", "cuda") else {}
