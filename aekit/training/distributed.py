"""Joining the process group that ``torchrun`` describes in the environment.

``torchrun --nproc-per-node N -m aekit train ...`` starts N copies of the command with
RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set; each joins one group (gloo on CPU, NCCL on
GPUs) and :func:`aekit.training.loop.fit` does the rest. Without those variables nothing happens.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator

import torch
from torch import distributed as dist

from aekit.errors import ParameterError


def resolve_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``auto`` (CUDA when present) as a concrete device string; under
    torchrun each process takes the GPU of its local rank."""
    if name not in ("cpu", "cuda", "auto") and not name.startswith("cuda:"):
        raise ParameterError("device", name, "must be cpu, cuda or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError("device", name, "PyTorch sees no CUDA GPU here; use cpu")
        if name == "cuda" and "LOCAL_RANK" in os.environ:
            name = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    return name


@contextlib.contextmanager
def process_group(device: str) -> Iterator[tuple[int, int]]:
    """Join torchrun's process group for the duration of the block; yields (rank, world size).

    Outside torchrun (no WORLD_SIZE, or 1) this is a no-op yielding (0, 1).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or dist.is_initialized():
        yield (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
        return
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    else:
        threads = threads_per_process(
            len(os.sched_getaffinity(0)), int(os.environ.get("LOCAL_WORLD_SIZE", "1")), os.environ
        )
        if threads is not None:
            torch.set_num_threads(threads)
    dist.init_process_group(backend=backend)
    try:
        yield dist.get_rank(), dist.get_world_size()
        # Leave together: a process that tears down its connections while rank 0 is still
        # writing the run's files can make gloo abort the process.
        dist.barrier()
    finally:
        # DistributedDataParallel wrappers sit in reference cycles; collect them while their
        # process group still exists, not during interpreter shutdown after it is destroyed.
        gc.collect()
        dist.destroy_process_group()


def threads_per_process(cores: int, local_processes: int, environment) -> int | None:
    """CPU threads for each of ``local_processes`` training processes on one machine: its
    cores shared out evenly, so the processes neither fight over cores nor leave them idle.

    torchrun sets OMP_NUM_THREADS=1 in every process unless it was set; that value (or none)
    is replaced, any other is the user's choice and kept (None: leave the count alone)."""
    if environment.get("OMP_NUM_THREADS", "1") != "1":
        return None
    return max(1, cores // max(1, local_processes))


def broadcast_from_first(value):
    """``value`` as rank 0 has it, in every process (e.g. the run folder rank 0 made)."""
    if not dist.is_initialized():
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]
