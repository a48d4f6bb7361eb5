"""A decoder evaluated in fixed-point integers: the same pixels on every machine.

A float network's output differs in its last bits between CPUs (AVX2 or AVX-512 kernels),
thread counts, BLAS libraries, PyTorch versions and GPUs, and bfloat16 moves it by more. A
compressed file must decode to the same pixels everywhere, so :func:`integer_decoder` turns a
trained decoder into a chain of fixed-point steps whose every value is a deterministic
function of the weights and the input:

* activations are integers in units of ``2**-FRACTION_BITS``, clamped to
  ``±ACTIVATION_LIMIT`` before each product;
* each output channel's weights are rounded to ``WEIGHT_BITS`` bits (scaled by a power of two)
  and its bias to the accumulator's unit, so a dense layer or convolution is a sum of integer
  products that float64 holds exactly whatever the order of summation or the kernel (the
  bound is checked when the decoder is converted); rescaling is a power-of-two product and a
  floor, both exact;
* GroupNorm sums in int64 (exact), then uses only float64 operations that IEEE-754 rounds
  correctly (subtraction, product, quotient, square root), one element at a time, then a
  floor: every machine rounds each of them the same way;
* sigmoid and SiLU are looked up in tables made from the sigmoid on [-16, 16] every 1/64,
  computed with Python's :mod:`decimal` (correctly rounded, unlike a platform's ``exp``) and
  interpolated linearly in integers;
* convolutions run in float64, which PyTorch computes by im2col and matrix products (oneDNN
  has no float64 kernels; cuDNN, whose Winograd and FFT transforms would not be exact, is
  switched off); nearest-neighbour resizing uses index tables made once on the CPU.

The cost is a rounding of weights and activations to about 16 and 12 bits, far below a
pixel level, and float64 arithmetic instead of float32 or bfloat16 (see docs/aez-format.md
for the measured speed).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aekit.errors import AekitError
from aekit.models.hybrid import HybridDecoder

FRACTION_BITS = 12  # activations are integers in units of 2**-12
ONE = 2.0**FRACTION_BITS
ACTIVATION_LIMIT = 2.0 ** (FRACTION_BITS + 10)  # |activation| <= 1024 before a product
WEIGHT_BITS = 16  # each output channel's largest weight: an integer of 15 bits and a sign
EXACT_LIMIT = 2.0**52  # every partial sum stays below this, so float64 adds integers exactly
# The sigmoid's table: values in units of 2**-16 at every 2**-6 from -16 to 16.
TABLE_BITS = 16
TABLE_STEP_BITS = 6
TABLE_REACH = 16
_REACH_UNITS = TABLE_REACH * ONE
LEAKY_SLOPE_BITS = 16
_POWERS_OF_TWO = torch.tensor([2.0**-k for k in range(64)], dtype=torch.float64)  # 2**-k, exact
BATCH_SIZE = 64

Step = Callable[[torch.Tensor], torch.Tensor]


@cache
def sigmoid_table() -> tuple[int, ...]:
    """round(2**16 * sigmoid(t)) for t = -16, -16 + 1/64, ..., 16, to 40 significant digits."""
    context = decimal.Context(prec=40)
    entries = TABLE_REACH * 2 * 2**TABLE_STEP_BITS + 1
    values = []
    for index in range(entries):
        t = decimal.Decimal(index - entries // 2) / 2**TABLE_STEP_BITS
        sigmoid = context.divide(1, context.add(1, context.exp(-t)))
        values.append(
            int(context.multiply(sigmoid, 2**TABLE_BITS).to_integral_value(decimal.ROUND_HALF_EVEN))
        )
    return tuple(values)


@cache
def _activation_tables() -> tuple[np.ndarray, np.ndarray]:
    """sigmoid(x) in units of 2**-FRACTION_BITS and silu(x) in activation units, for every
    activation x from -16 to 16, interpolated linearly in integers between the entries of
    :func:`sigmoid_table` (so one look-up at run time; 131,073 entries each)."""
    coarse = np.array(sigmoid_table(), dtype=np.int64)
    per_step = 2 ** (FRACTION_BITS - TABLE_STEP_BITS)
    x = np.arange(-TABLE_REACH * 2**FRACTION_BITS, TABLE_REACH * 2**FRACTION_BITS + 1, dtype=np.int64)
    index, within = np.divmod(x + TABLE_REACH * 2**FRACTION_BITS, per_step)
    high = coarse[np.minimum(index + 1, len(coarse) - 1)]
    sigmoid = (coarse[index] * (per_step - within) + high * within) // per_step  # units of 2**-16
    half = 2 ** (TABLE_BITS - FRACTION_BITS - 1)
    sigmoid_out = (sigmoid + half) // 2 ** (TABLE_BITS - FRACTION_BITS)
    silu = (x * sigmoid + 2 ** (TABLE_BITS - 1)) >> TABLE_BITS
    return sigmoid_out.astype(np.float64), silu.astype(np.float64)


def _looked_up(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """table[x] for activations x, clamped to the table's range."""
    return table[x.clamp(-_REACH_UNITS, _REACH_UNITS).add_(_REACH_UNITS).long()]


def _power_of_two(exponents: torch.Tensor) -> torch.Tensor:
    """2**e for whole numbers e, exactly (math.ldexp; a platform's pow need not be exact)."""
    return torch.tensor([math.ldexp(1.0, int(e)) for e in exponents.tolist()], dtype=torch.float64)


@dataclass(frozen=True)
class _Affine:
    """A Linear, Conv2d or ConvTranspose2d layer on integers: per output channel, weights
    scaled by 2**shift and rounded; the sum divided by 2**shift again and rounded."""

    weight: torch.Tensor  # integers, float64, the layer's own shape
    bias: torch.Tensor  # integers in the accumulator's unit, rounding offset included
    scale: torch.Tensor  # 2**-shift per output channel
    apply: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.apply(x.clamp_(-ACTIVATION_LIMIT, ACTIVATION_LIMIT), self.weight, self.bias)
        shape = (1, -1) + (1,) * (out.dim() - 2)
        return out.mul_(self.scale.view(shape)).floor_()


def _affine(layer: nn.Linear | nn.Conv2d | nn.ConvTranspose2d, device: torch.device) -> _Affine:
    weight = layer.weight.detach().double().cpu()
    out_axis = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
    per_output = weight.transpose(0, out_axis).flatten(1)  # (out, everything summed into it)
    if isinstance(layer, nn.ConvTranspose2d) and layer.groups != 1:
        raise AekitError("a grouped transposed convolution cannot be computed exactly in integers")
    largest = per_output.abs().amax(dim=1).clamp(min=2.0**-60)
    # ceil(log2(largest)) from the float's own exponent (frexp is exact; log2 need not be).
    mantissa, exponent = torch.frexp(largest)
    shift = (WEIGHT_BITS - 1) - (exponent - (mantissa == 0.5).int()).double()
    bias = layer.bias.detach().double().cpu() if layer.bias is not None else torch.zeros(len(shift))
    while True:
        scaled = torch.round(per_output * _power_of_two(shift)[:, None])
        offset = torch.where(shift >= 1, _power_of_two(shift - 1), 0.0)
        bias_int = torch.round(bias * _power_of_two(shift + FRACTION_BITS)) + offset
        worst = scaled.abs().sum(dim=1) * ACTIVATION_LIMIT + bias_int.abs()
        too_large = worst >= EXACT_LIMIT
        if not too_large.any():
            break
        if (shift[too_large] < -30).any():
            raise AekitError("a decoder layer's weights are too large to compute exactly in integers")
        shift = torch.where(too_large, shift - 1, shift)
    shaped = [-1] + [1] * (weight.dim() - 1)
    weight_int = torch.round(weight.transpose(0, out_axis) * _power_of_two(shift).view(shaped))
    weight_int, bias_int = weight_int.transpose(0, out_axis).contiguous().to(device), bias_int.to(device)
    scale = _power_of_two(-shift).to(device)
    if isinstance(layer, nn.Linear):
        return _Affine(weight_int, bias_int, scale, lambda x, w, b: torch.addmm(b, x, w.T))
    if isinstance(layer, nn.Conv2d):
        settings = dict(
            stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups
        )
        return _Affine(weight_int, bias_int, scale, lambda x, w, b: F.conv2d(x, w, b, **settings))
    settings = dict(
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        groups=layer.groups,
        dilation=layer.dilation,
    )
    return _Affine(weight_int, bias_int, scale, lambda x, w, b: F.conv_transpose2d(x, w, b, **settings))


@dataclass(frozen=True)
class _GroupNorm:
    groups: int
    gamma: torch.Tensor  # float64 per channel
    beta: torch.Tensor  # integers in activation units, plus 0.5 (to round by flooring)
    eps: float

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, channels = x.shape[:2]
        grouped = x.clamp_(-ACTIVATION_LIMIT, ACTIVATION_LIMIT).view(n, self.groups, -1)
        count = grouped.shape[2]
        # Sums of integers below 2**53 are exact in float64, in any order.
        total = grouped.sum(dim=2)
        floor_mean = (total / count).floor_()
        centred = grouped - floor_mean[:, :, None]
        # Where a group's squares could sum past 2**52, its values lose low bits first (each
        # group by its own largest value, so that no group depends on another in the batch).
        largest = centred.abs().amax(dim=2)
        _, exponent = torch.frexp(largest * largest * count)
        drop = torch.div(exponent - 51, 2, rounding_mode="floor").clamp_(min=0).long()
        powers = _POWERS_OF_TWO.to(x.device)
        centred.mul_(powers[drop][:, :, None]).floor_()
        squares = (centred * centred).sum(dim=2) / powers[drop] ** 2
        remainder = (total - floor_mean * count) / count
        mean = floor_mean + remainder
        variance = (squares / count - remainder * remainder) * ONE**-2
        inverse = 1.0 / torch.sqrt(variance.clamp_(min=0.0) + self.eps)
        per_group = channels // self.groups
        factor = (inverse.repeat_interleave(per_group, dim=1) * self.gamma)[:, :, None, None]
        means = mean.repeat_interleave(per_group, dim=1)[:, :, None, None]
        return (x - means).mul_(factor).add_(self.beta[:, None, None]).floor_()


def _group_norm(layer: nn.GroupNorm, device: torch.device) -> _GroupNorm:
    gamma = layer.weight.detach().double() if layer.affine else torch.ones(layer.num_channels)
    beta = layer.bias.detach().double() if layer.affine else torch.zeros(layer.num_channels)
    return _GroupNorm(
        layer.num_groups, gamma.cpu().to(device), (torch.round(beta.cpu() * ONE) + 0.5).to(device), layer.eps
    )


def _activation(layer: nn.Module, device: torch.device) -> Step:
    if isinstance(layer, nn.Sigmoid | nn.SiLU):
        sigmoid, silu = (torch.from_numpy(table).to(device) for table in _activation_tables())
        if isinstance(layer, nn.Sigmoid):
            return lambda x: _looked_up(x, sigmoid)
        # Beyond the table silu(x) is x (above) or 0 (below: it rounds to 0 at -16 already).
        return lambda x: torch.where(x > _REACH_UNITS, x, _looked_up(x, silu))
    if isinstance(layer, nn.ReLU):
        return lambda x: x.clamp(min=0.0)
    slope = round(layer.negative_slope * 2**LEAKY_SLOPE_BITS)
    return lambda x: torch.where(
        x >= 0,
        x,
        x.clamp(-ACTIVATION_LIMIT, 0) * slope * 2.0**-LEAKY_SLOPE_BITS + 0.5,
    ).floor_()


def _nearest(layer: nn.Upsample) -> Step:
    target = layer.size if isinstance(layer.size, tuple) else (layer.size, layer.size)
    if target[0] is None or layer.mode != "nearest":
        raise AekitError("only nearest resizing to a fixed size can be computed exactly")

    def resize(x: torch.Tensor) -> torch.Tensor:
        # PyTorch's own choice of source pixels, taken once from the CPU's float arithmetic.
        rows, cols = (
            F.interpolate(torch.arange(side, dtype=torch.float32).view(1, 1, side, 1), (length, 1))
            .long()
            .view(-1)
            for side, length in ((x.shape[2], target[0]), (x.shape[3], target[1]))
        )
        return x[:, :, rows.to(x.device)][:, :, :, cols.to(x.device)]

    return resize


def _hybrid(decoder: HybridDecoder, device: torch.device) -> Step:
    unproject = _affine(decoder.unproject, device)
    correction = _steps(decoder.correction, device)
    mean = torch.round(decoder.mean.detach().double().cpu() * ONE).to(device)

    def evaluate(x: torch.Tensor) -> torch.Tensor:
        linear = (unproject(x) + mean).unflatten(1, decoder.shape)
        return (linear + _run(correction, x)).clamp_(0.0, ONE)

    return evaluate


def _steps(module: nn.Module, device: torch.device) -> list[Step]:
    if isinstance(module, nn.Sequential):
        return [step for child in module for step in _steps(child, device)]
    if isinstance(module, HybridDecoder):
        return [_hybrid(module, device)]
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        return [_affine(module, device)]
    if isinstance(module, nn.GroupNorm):
        return [_group_norm(module, device)]
    if isinstance(module, nn.Sigmoid | nn.SiLU | nn.ReLU | nn.LeakyReLU):
        return [_activation(module, device)]
    if isinstance(module, nn.Unflatten):
        return [lambda x, m=module: x.unflatten(m.dim, m.unflattened_size)]
    if isinstance(module, nn.Flatten):
        return [lambda x, m=module: x.flatten(m.start_dim, m.end_dim)]
    if isinstance(module, nn.Upsample):
        return [_nearest(module)]
    raise AekitError(f"a {type(module).__name__} layer cannot be computed exactly in integers")


def _run(steps: list[Step], x: torch.Tensor) -> torch.Tensor:
    for step in steps:
        x = step(x)
    return x


@dataclass(frozen=True)
class IntegerDecoder:
    """Codes (N, latent_dim) -> pixel levels (N, C, H, W) uint8, identical on every machine.

    Made by :func:`integer_decoder`; ``device`` only changes where it runs, never a pixel."""

    steps: tuple[Step, ...]
    device: torch.device

    def __call__(self, codes: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
        return self._evaluate(codes, batch_size, levels=True)

    def outputs(self, codes: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """The last layer's integers (N, C, H, W, float64, units of 2**-FRACTION_BITS) before
        they are rounded to levels: finer than levels, and as exact."""
        return self._evaluate(codes, batch_size, levels=False)

    def _evaluate(self, codes: np.ndarray, batch_size: int, levels: bool) -> np.ndarray:
        # Codes to fixed point: one correctly rounded product, a floor, a clamp.
        fixed = np.floor(np.asarray(codes, dtype=np.float64) * ONE + 0.5)
        np.clip(fixed, -ACTIVATION_LIMIT, ACTIVATION_LIMIT, out=fixed)
        outputs = []
        with torch.inference_mode(), torch.backends.cudnn.flags(enabled=False):
            for start in range(0, len(fixed), batch_size):
                x = _run(
                    list(self.steps), torch.from_numpy(fixed[start : start + batch_size]).to(self.device)
                )
                outputs.append((to_levels(x) if levels else x).cpu().numpy())
        return np.concatenate(outputs)


def to_levels(outputs: torch.Tensor) -> torch.Tensor:
    """Outputs in activation units standing for pixels in [0, 1] -> levels 0..255 (uint8)."""
    return (outputs * 255 + ONE / 2).mul_(1 / ONE).floor_().clamp_(0, 255).to(torch.uint8)


def integer_decoder(decoder: nn.Module, device: str | torch.device = "cpu") -> IntegerDecoder:
    """The exact fixed-point form of ``decoder`` (a chain of Linear, Conv2d, ConvTranspose2d,
    GroupNorm, SiLU, Sigmoid, ReLU, LeakyReLU, nearest Upsample, Flatten and Unflatten layers,
    or a hybrid decoder). Raises :class:`AekitError` for any other layer."""
    device = torch.device(device)
    return IntegerDecoder(tuple(_steps(decoder, device)), device)
