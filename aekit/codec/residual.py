"""The residual layer: the pixels' remaining error, rounded to a step and entropy-coded.

The code alone stops at the decoder's quality (about 26-27 dB on MNIST). Above that, each
pixel's error against the decoded picture, in whole levels 0..255, is rounded to a multiple of
``step`` levels and coded: the decoded pixel is the picture's plus the rounded error, so no
pixel is ever off by more than half a step (a step of 1 is lossless).

Most of those rounded errors are zero, and where they are not is predictable: along the edges
of strokes, rarely on the background. Each pixel's probability table is chosen by a context:
the brightness of the codec family's exact integer prediction at that pixel, and how much that
prediction changes around it (:func:`contexts`). The tables are counted on the training set,
like the code's, and belong to the run. Because contexts come from integers only, a file
decodes on any machine; the decoded picture itself comes from the float decoder, so another
kind of device may place a pixel a level or two apart (see docs/aez-format.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import constriction
import numpy as np

from aekit.errors import ParameterError

LEVELS = 255
# Context = brightness bucket of the predicted pixel x activity bucket of its 3x3 neighbourhood
# (largest minus smallest predicted level there). Finer buckets than these saved under 1% on
# MNIST; the decoder's own (exact) picture saves 2-14% over version 2's integer predictor.
BRIGHTNESS_EDGES = (1, 4, 12, 24, 48, 80, 120, 160, 200, 230, 250)
ACTIVITY_EDGES = (4, 12, 32, 64, 128)
CONTEXTS = (len(BRIGHTNESS_EDGES) + 1) * (len(ACTIVITY_EDGES) + 1)
_LEVELS = np.arange(LEVELS + 1)
_BRIGHTNESS = np.searchsorted(BRIGHTNESS_EDGES, _LEVELS, side="right").astype(np.uint8)
_ACTIVITY = np.searchsorted(ACTIVITY_EDGES, _LEVELS, side="right").astype(np.uint8)
PSEUDO_COUNT = 0.5
MAX_COUNT = 1 << 53


def check_residual_step(step: object) -> int:
    """A residual step is a whole number of pixel levels from 1 (lossless) to 255."""
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or not 1 <= step <= LEVELS:
        raise ParameterError("residual_step", step, f"must be a whole number of levels from 1 to {LEVELS}")
    return int(step)


def reach(step: int) -> int:
    """The largest |rounded error| a step allows: errors lie in [-255, 255] levels."""
    return (LEVELS + step // 2) // step


# Errors and levels are carried in int16 (every sum below stays within +-1,000): a quarter of
# int64's memory traffic over millions of pixels.
def quantise(originals: np.ndarray, predicted: np.ndarray, step: int) -> np.ndarray:
    """Rounded errors (int16, same shape) of pixel levels ``originals`` against ``predicted``."""
    error = originals.astype(np.int16) - predicted.astype(np.int16)
    return np.floor_divide(error + np.int16(step // 2), np.int16(step))


def reconstruct(predicted: np.ndarray, rounded: np.ndarray, step: int) -> np.ndarray:
    """Pixel levels (uint8) from the predicted levels and the rounded errors."""
    levels = predicted.astype(np.int16) + rounded.astype(np.int16, copy=False) * np.int16(step)
    return np.clip(levels, 0, LEVELS).astype(np.uint8)


def contexts(prediction: np.ndarray) -> np.ndarray:
    """The context (0..CONTEXTS-1, uint8) of every pixel of pixel levels (N, C, H, W) uint8."""
    prediction = np.asarray(prediction, dtype=np.uint8)
    padded = np.pad(prediction, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    width = prediction.shape[3]
    # The 3x3 neighbourhood's largest and smallest levels, as three rows then three columns.
    rows_max = np.maximum(np.maximum(padded[:, :, :-2], padded[:, :, 1:-1]), padded[:, :, 2:])
    rows_min = np.minimum(np.minimum(padded[:, :, :-2], padded[:, :, 1:-1]), padded[:, :, 2:])
    largest = np.maximum(np.maximum(rows_max[..., :width], rows_max[..., 1 : width + 1]), rows_max[..., 2:])
    smallest = np.minimum(np.minimum(rows_min[..., :width], rows_min[..., 1 : width + 1]), rows_min[..., 2:])
    return _BRIGHTNESS[prediction] * np.uint8(len(ACTIVITY_EDGES) + 1) + _ACTIVITY[largest - smallest]


@dataclass(frozen=True)
class ResidualModel:
    """Counts of the rounded errors -reach..reach in each context, for one ``step``."""

    step: int
    counts: tuple[tuple[int, ...], ...]

    def probabilities(self) -> np.ndarray:
        table = np.asarray(self.counts, dtype=np.float64) + PSEUDO_COUNT
        return table / table.sum(axis=1, keepdims=True)

    def bits(self, rounded: np.ndarray, context: np.ndarray) -> float:
        """What an ideal coder spends on ``rounded`` errors in their ``context``s."""
        # Counted per (context, error) first: millions of pixels, a few thousand distinct pairs.
        counts = _pair_counts(rounded, context, self.step)
        return float(-(counts * np.log2(self.probabilities())).sum())

    def min_bits_per_pixel(self) -> float:
        """The fewest bits any one pixel can cost (with the 24-bit coder's floor)."""
        width = 2 * reach(self.step) + 1
        most_likely = min(self.probabilities().max(), 1 - (width - 1) / 2**24)
        return float(-np.log2(most_likely))

    def to_json(self) -> str:
        return json.dumps(
            {"step": self.step, "counts": [list(row) for row in self.counts]}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, data: object) -> ResidualModel:
        """From the object :meth:`to_json` writes (parsed); ValueError if inconsistent."""
        if not isinstance(data, dict) or set(data) != {"step", "counts"}:
            raise ValueError("not a residual model")
        step, counts = data["step"], data["counts"]
        if not (
            type(step) is int and 1 <= step <= LEVELS and isinstance(counts, list) and len(counts) == CONTEXTS
        ):
            raise ValueError("inconsistent residual model")
        width = 2 * reach(step) + 1
        if not all(
            isinstance(row, list)
            and len(row) == width
            and all(type(c) is int and 0 <= c <= MAX_COUNT for c in row)
            and sum(row) <= MAX_COUNT
            for row in counts
        ):
            raise ValueError("inconsistent residual model")
        return cls(step=step, counts=tuple(tuple(row) for row in counts))


def fit_residual_model(rounded: np.ndarray, context: np.ndarray, step: int) -> ResidualModel:
    """Count training errors ``rounded`` (already quantised at ``step``) per context."""
    step = check_residual_step(step)
    table = _pair_counts(rounded, context, step)
    return ResidualModel(step=step, counts=tuple(tuple(row) for row in table.tolist()))


def _pair_counts(rounded: np.ndarray, context: np.ndarray, step: int) -> np.ndarray:
    """(CONTEXTS, 2 * reach + 1): how often each rounded error occurs in each context."""
    width = 2 * reach(step) + 1
    pairs = context.ravel().astype(np.int64) * width + rounded.ravel() + reach(step)
    return np.bincount(pairs, minlength=CONTEXTS * width).reshape(CONTEXTS, width)


def _categoricals(model: ResidualModel) -> list:
    return [constriction.stream.model.Categorical(row, perfect=False) for row in model.probabilities()]


def encode_residual(model: ResidualModel, rounded: np.ndarray, context: np.ndarray) -> bytes:
    """ANS-code the rounded errors, context by context (each context's pixels in array order)."""
    order = np.argsort(context.ravel(), kind="stable")
    symbols = (rounded.ravel()[order] + reach(model.step)).astype(np.int32)
    ends = np.cumsum(np.bincount(context.ravel(), minlength=CONTEXTS))
    coder = constriction.stream.stack.AnsCoder()
    categoricals = _categoricals(model)
    # ANS is a stack: push the last context first so that decoding pops the first first.
    for index in reversed(range(CONTEXTS)):
        start = ends[index - 1] if index else 0
        if ends[index] > start:
            coder.encode_reverse(np.ascontiguousarray(symbols[start : ends[index]]), categoricals[index])
    return coder.get_compressed().astype("<u4").tobytes()


def decode_residual(model: ResidualModel, payload: bytes, context: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode_residual`: the rounded errors (int16), shaped like ``context``.
    Raises ValueError if the payload does not decode to exactly that many."""
    if len(payload) % 4:
        raise ValueError("residual payload length is not a whole number of 32-bit words")
    order = np.argsort(context.ravel(), kind="stable")
    counts = np.bincount(context.ravel(), minlength=CONTEXTS)
    try:
        coder = constriction.stream.stack.AnsCoder(np.frombuffer(payload, dtype="<u4").astype(np.uint32))
        parts = [
            coder.decode(categorical, int(count))
            for categorical, count in zip(_categoricals(model), counts, strict=True)
            if count
        ]
        empty = coder.is_empty()
    except Exception as exc:  # constriction reports malformed data with various exception types
        raise ValueError(f"entropy-coded residual is malformed ({exc})") from None
    if not empty:
        raise ValueError("the residual holds more than the header's count of pixels")
    rounded = np.empty(context.size, dtype=np.int16)
    rounded[order] = np.concatenate(parts)  # symbols 0..2 * reach, well within int16
    rounded -= np.int16(reach(model.step))
    return rounded.reshape(context.shape)
