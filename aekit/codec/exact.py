"""A dense network evaluated in integer arithmetic: the same output on every machine.

An entropy decoder must rebuild exactly the probabilities its encoder used. When those depend
on a network's output (the codec family's ``predictor``), ordinary float arithmetic is not
enough: sums come out a last bit apart between CPUs, GPUs, libraries and thread counts, and a
single table chosen differently desynchronises the rest of the file. So the predictor's weights
are rounded once to integers (each layer scaled by a power of two), its activations are carried
as integers in units of 2**-FRACTION_BITS, and every product and sum is of integers small
enough that float64 holds it exactly, whatever the order of summation (the bound is checked
when the network is converted). Rescaling is a division by a power of two and a floor, both
exact. The cost is a rounding of weights and activations to about 12 bits, far below what
matters for choosing a probability table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from aekit.errors import AekitError

FRACTION_BITS = 12  # activations are integers in units of 2**-12
WEIGHT_BITS = 12  # each layer's largest weight becomes an integer of 11 bits and a sign
EXACT_LIMIT = 2.0**52  # every partial sum stays below this, so float64 adds integers exactly


@dataclass(frozen=True)
class IntegerLayer:
    """out = floor((x @ weight.T + bias) / 2**shift), then ReLU unless it is the last layer;
    ``weight`` and ``bias`` hold integers (as float64)."""

    weight: np.ndarray
    bias: np.ndarray
    shift: int


@dataclass(frozen=True)
class IntegerNetwork:
    """Integer inputs (N, in) within [-input_bound, input_bound] -> outputs (N, out), integers
    in units of 2**-FRACTION_BITS."""

    layers: tuple[IntegerLayer, ...]
    input_bound: float

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        clipped = np.clip(np.asarray(inputs, dtype=np.float64), -self.input_bound, self.input_bound)
        values = torch.from_numpy(clipped)
        # PyTorch's float64 products on the CPU: faster than NumPy's here, and as exact.
        for index, layer in enumerate(self.layers):
            values = torch.addmm(torch.from_numpy(layer.bias), values, torch.from_numpy(layer.weight).T)
            values.mul_(2.0**-layer.shift).floor_()
            if index < len(self.layers) - 1:
                values.clamp_(min=0.0)
        return values.numpy()


def integer_network(sequential: nn.Sequential, input_scale: float, input_bound: float) -> IntegerNetwork:
    """Convert a chain of ``Linear`` layers with ``ReLU`` between them, whose input will be
    integers k standing for k * ``input_scale`` with |k| <= ``input_bound``.

    Raises :class:`AekitError` if the network has other layers or its sums could exceed what
    float64 holds exactly."""
    linears = [layer for layer in sequential if isinstance(layer, nn.Linear)]
    others = [layer for layer in sequential if not isinstance(layer, nn.Linear | nn.ReLU)]
    if others or not linears:
        raise AekitError("only chains of Linear and ReLU layers can be computed exactly in integers")
    layers, fraction, bound = [], 0, float(input_bound)  # the input is whole numbers
    for layer in linears:
        weight = layer.weight.detach().double().cpu().numpy()
        bias = (
            layer.bias.detach().double().cpu().numpy()
            if layer.bias is not None
            else np.zeros(weight.shape[0])
        )
        if fraction == 0:
            weight = weight * input_scale
        largest = float(np.abs(weight).max()) or 1.0
        weight_shift = WEIGHT_BITS - 1 - math.ceil(math.log2(largest))
        weight_int = np.rint(weight * 2.0**weight_shift)
        accumulator_fraction = weight_shift + fraction
        bias_int = np.rint(bias * 2.0**accumulator_fraction)
        shift = accumulator_fraction - FRACTION_BITS
        if shift < 0:  # scale the integers up instead: still exact
            weight_int, bias_int, shift = weight_int * 2.0**-shift, bias_int * 2.0**-shift, 0
        worst = float((np.abs(weight_int).sum(axis=1) * bound + np.abs(bias_int)).max())
        if worst >= EXACT_LIMIT:
            raise AekitError("the predictor's sums are too large to compute exactly in float64")
        layers.append(IntegerLayer(weight_int, bias_int, shift))
        fraction, bound = FRACTION_BITS, worst / 2.0**shift + 1
    return IntegerNetwork(tuple(layers), float(input_bound))


def to_pixel_levels(outputs: np.ndarray) -> np.ndarray:
    """Integer outputs standing for pixels in [0, 1] -> uint8 levels 0..255, exactly."""
    scaled = np.floor((outputs * 255 + 2.0 ** (FRACTION_BITS - 1)) * 2.0**-FRACTION_BITS)
    return np.clip(scaled, 0, 255).astype(np.uint8)
