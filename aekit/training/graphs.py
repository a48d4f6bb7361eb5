"""Training steps replayed as CUDA graphs.

A small autoencoder's step on a GPU is a few hundred tiny kernels; launching them one by one
from Python costs more than running them (about 1.6 ms per step for the tutorial's network on
an H200, where the arithmetic takes a tenth of that). A CUDA graph records the whole step
(forward, backward and the fused Adam update) once and replays it with a single launch.

Only steps that draw no random numbers are recorded (a replay would repeat the recorded
draws); see :func:`aekit.training.losses.draws_random_numbers`.

If recording fails (a PyTorch or driver that cannot capture some kernel), the step warns once
and stays eager: slower, never wrong.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

# Steps run eagerly before recording, on the stream that records (PyTorch's CUDA graph notes
# ask for a side stream), so that lazily made state (the optimizer's moments, the BLAS
# library's handle and workspace for that stream) exists before capture.
EAGER_STEPS_BEFORE_CAPTURE = 3

Step = Callable[[torch.Tensor], torch.Tensor]


class GraphedStep:
    """Calls ``step(batch) -> loss`` eagerly for the first few batches, then records it as a
    CUDA graph at the first batch of ``batch_size`` images and replays that for every such
    batch. Other batches (an epoch's last, smaller one) run eagerly.

    ``step`` must run the forward pass, the backward pass and ``optimizer.step()``, setting
    the gradients afresh (``zero_grad(set_to_none=True)`` first). The optimizer must be
    PyTorch's fused Adam: its learning rate is read from a device tensor inside the graph,
    refreshed from the param group before every replay, so learning-rate schedulers keep
    working on the plain float they expect (and checkpoints keep it).
    """

    def __init__(self, step: Step, optimizer: torch.optim.Optimizer, device: torch.device, batch_size: int):
        self.step = step
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.side_stream = torch.cuda.Stream(device)
        self.eager_left = EAGER_STEPS_BEFORE_CAPTURE
        self.graph: torch.cuda.CUDAGraph | None = None
        self.failed = False
        self.inputs: torch.Tensor | None = None
        self.loss: torch.Tensor | None = None
        self.learning_rates = [
            torch.tensor(float(group["lr"]), dtype=torch.float32, device=device)
            for group in optimizer.param_groups
        ]

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        full = len(batch) == self.batch_size
        if self.graph is None and self.eager_left == 0 and full and not self.failed:
            self._record(batch)
        if self.graph is None or not full:
            self.eager_left = max(0, self.eager_left - 1)
            return self._eager(batch)
        self.inputs.copy_(batch)
        for rate, group in zip(self.learning_rates, self.optimizer.param_groups, strict=True):
            rate.fill_(group["lr"])
        self.graph.replay()
        # A copy, so a caller that keeps it is not overwritten by the next replay.
        return self.loss.clone()

    def _eager(self, batch: torch.Tensor) -> torch.Tensor:
        self.side_stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side_stream):
            loss = self.step(batch)
        torch.cuda.current_stream().wait_stream(self.side_stream)
        return loss

    def _record(self, batch: torch.Tensor) -> None:
        self.inputs = batch.clone()
        groups = self.optimizer.param_groups
        plain = [(group["lr"], group["capturable"]) for group in groups]
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        try:
            for group, rate in zip(groups, self.learning_rates, strict=True):
                group["lr"], group["capturable"] = rate, True
            with torch.cuda.graph(graph, stream=self.side_stream):
                self.loss = self.step(self.inputs)
        except RuntimeError as error:
            self.failed = True
            self.optimizer.zero_grad(set_to_none=True)
            warnings.warn(f"training without CUDA graphs: recording the step failed ({error})", stacklevel=3)
            return
        finally:
            for group, (rate, capturable) in zip(groups, plain, strict=True):
                group["lr"], group["capturable"] = rate, capturable
        self.graph = graph
