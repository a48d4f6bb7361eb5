"""Quantised codes to bytes and back: per-dimension probability tables and an ANS entropy coder.

Codes are rounded to multiples of one ``step``; each code dimension gets its own table of
symbol probabilities, counted on the training set's codes. The tables belong to a trained
run (fitted once and stored in it), never to a compressed file. The coder is
``constriction``'s asymmetric numeral systems (ANS) coder, which spends within a fraction
of a percent of -log2(probability) bits per symbol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import constriction
import numpy as np

from aekit.errors import AekitError, ParameterError

# A table wider than this means the step is far too small for the codes' range.
MAX_SYMBOLS = 1 << 16
# Every symbol in a dimension's range keeps this many pseudo-counts, so a code the training
# set never produced still costs a finite number of bits.
PSEUDO_COUNT = 0.5
# The range of each table reaches this fraction of the training codes' spread beyond them
# on both sides (and at least MARGIN_SYMBOLS), for images a little unlike the training set.
MARGIN_FRACTION = 0.25
MARGIN_SYMBOLS = 2
# Steps outside this range make codes overflow float32 or every table one symbol wide.
MIN_STEP, MAX_STEP = 1e-6, 1e6
MAX_DIMENSIONS = 65_536  # a code size no model of aekit's reaches (aekit.models.config.MAX_WIDTH)
MAX_COUNT = 1 << 53  # counts stay exact as float64
MAX_SYMBOL_INDEX = 1 << 40  # far beyond any code range rounded at MIN_STEP


@dataclass(frozen=True)
class EntropyModel:
    """Symbol counts per code dimension for codes rounded to multiples of ``step``.

    ``low[d]`` is the smallest symbol of dimension d and ``counts[d][k]`` how often symbol
    ``low[d] + k`` occurred among the training codes. Codes beyond a table's range are
    clipped to its ends.
    """

    step: float
    low: tuple[int, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def latent_dim(self) -> int:
        return len(self.low)

    def _range(self) -> tuple[np.ndarray, np.ndarray]:
        """Each dimension's smallest symbol and its count of symbols."""
        return np.asarray(self.low), np.asarray([len(row) for row in self.counts])

    def probabilities(self, escape: bool = False) -> np.ndarray:
        """(D, K) float64, each row summing to 1 over its dimension's symbols, zero-padded to K.

        With ``escape`` each row has one more symbol, just after its range, standing for a
        code outside it (whose value is then stored exactly, see :meth:`escaped_symbols`)."""
        widths = [len(row) + escape for row in self.counts]
        table = np.zeros((self.latent_dim, max(widths)))
        for d, row in enumerate(self.counts):
            weights = np.asarray(row, dtype=np.float64) + PSEUDO_COUNT
            if escape:
                weights = np.append(weights, PSEUDO_COUNT)
            table[d, : widths[d]] = weights / weights.sum()
        return table

    def escaped_symbols(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes (N, D) -> table indices (N, D) int32 where a code outside its dimension's
        range gets the escape index (the range's width), and the exact multiples of the step
        of those codes (int64), dimension by dimension, as the coder meets them."""
        rounded = self.rounded(codes)
        low, widths = self._range()
        outside = (rounded < low) | (rounded >= low + widths)
        symbols = np.where(outside, widths, rounded - low).astype(np.int32)
        return symbols, rounded.T[outside.T]

    def rounded(self, codes: np.ndarray) -> np.ndarray:
        """Codes (N, D) as whole multiples of the step (int64), within +-MAX_SYMBOL_INDEX."""
        scaled = np.rint(np.asarray(codes, dtype=np.float64) / self.step)
        return np.clip(scaled, -MAX_SYMBOL_INDEX, MAX_SYMBOL_INDEX).astype(np.int64)

    def unescaped(self, symbols: np.ndarray, escapes: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`escaped_symbols`: whole multiples of the step (N, D) int64.
        Raises ValueError unless ``escapes`` holds exactly one value per escape index."""
        low, widths = self._range()
        outside = symbols == widths
        if int(outside.sum()) != len(escapes):
            raise ValueError(f"{int(outside.sum())} codes are escaped but {len(escapes)} values follow")
        if len(escapes) and np.abs(escapes).max() > MAX_SYMBOL_INDEX:
            raise ValueError("an escaped code is beyond any code's range")
        rounded = (symbols + low).astype(np.int64)
        transposed = rounded.T.copy()
        transposed[outside.T] = escapes
        return transposed.T

    def clipped(self, rounded: np.ndarray) -> np.ndarray:
        """Whole multiples of the step (N, D) clipped to each dimension's range."""
        low, widths = self._range()
        return np.clip(rounded, low, low + widths - 1)

    def largest_magnitude(self) -> int:
        """The largest |multiple of the step| within any dimension's range."""
        low, widths = self._range()
        return int(np.maximum(np.abs(low), np.abs(low + widths - 1)).max())

    def symbols(self, codes: np.ndarray) -> np.ndarray:
        """Codes (N, D) -> table indices (N, D) int32: rounded to the step, clipped to each range
        (how version 1 files coded them; version 2 escapes instead, see :meth:`escaped_symbols`)."""
        low = np.asarray(self.low)
        return (self.clipped(np.rint(np.asarray(codes, dtype=np.float64) / self.step)) - low).astype(np.int32)

    def codes(self, symbols: np.ndarray) -> np.ndarray:
        """Table indices (N, D) -> the quantised codes (N, D) float32 they stand for."""
        return self.dequantised(symbols + np.asarray(self.low))

    def dequantised(self, rounded: np.ndarray) -> np.ndarray:
        """Whole multiples of the step (N, D) -> the float32 codes the decoder is given (one
        computation for compressing and decompressing)."""
        return (np.asarray(rounded).astype(np.float64) * self.step).astype(np.float32)

    def bits(self, symbols: np.ndarray, escape: bool = False) -> float:
        """The information content of ``symbols`` under this model: what an ideal coder spends."""
        table = self.probabilities(escape)
        rows = np.broadcast_to(np.arange(self.latent_dim), symbols.shape)
        return float(-np.log2(table[rows, symbols]).sum())

    def min_bits_per_code(self, escape: bool = False) -> float:
        """The fewest bits any one code can cost: bounds how many codes a payload can hold."""
        return float(-np.log2(self.probabilities(escape).max(axis=1)).sum())

    def min_coded_bits_per_code(self, escape: bool = False) -> float:
        """The fewest bits the 24-bit coder can spend on one code: every symbol keeps at least
        one of 2**24 parts of probability, so the likeliest gets at most the rest."""
        widths = np.array([len(row) + escape for row in self.counts], dtype=np.float64)
        return float(-np.log2(1 - (widths - 1) / 2**24).sum())

    def to_json(self) -> str:
        """Canonical JSON: the same model always gives the same text (it is fingerprinted)."""
        return json.dumps(
            {"step": self.step, "low": list(self.low), "counts": [list(row) for row in self.counts]},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> EntropyModel:
        """Parse :meth:`to_json` output; raises ValueError if it is not a consistent model
        (wrong types, sizes beyond the limits above, counts that would not stay exact)."""
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != {"step", "low", "counts"}:
            raise ValueError("not an entropy model")
        step, low, counts = data["step"], data["low"], data["counts"]

        def whole(value: object, least: int, most: int) -> bool:
            return type(value) is int and least <= value <= most

        if not (
            isinstance(step, float | int)
            and not isinstance(step, bool)
            and MIN_STEP <= step <= MAX_STEP
            and isinstance(low, list)
            and isinstance(counts, list)
            and 0 < len(low) == len(counts) <= MAX_DIMENSIONS
            and all(whole(v, -MAX_SYMBOL_INDEX, MAX_SYMBOL_INDEX) for v in low)
            and all(isinstance(row, list) and 0 < len(row) <= MAX_SYMBOLS for row in counts)
            and all(whole(c, 0, MAX_COUNT) for row in counts for c in row)
            and all(sum(row) <= MAX_COUNT for row in counts)
        ):
            raise ValueError("inconsistent entropy model")
        return cls(step=float(step), low=tuple(low), counts=tuple(tuple(row) for row in counts))


def check_step(step: object) -> None:
    """A quantisation step must lie in [MIN_STEP, MAX_STEP]."""
    if isinstance(step, bool) or not (isinstance(step, int | float) and MIN_STEP <= step <= MAX_STEP):
        raise ParameterError("step", step, f"must be between {MIN_STEP:g} and {MAX_STEP:g}")


def fit_entropy_model(codes: np.ndarray, step: float) -> EntropyModel:
    """Count the symbols of training ``codes`` (N, D) rounded to multiples of ``step``."""
    check_step(step)
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) == 0 or not np.all(np.isfinite(codes)):
        raise AekitError("fitting an entropy model needs a non-empty (N, D) array of finite codes")
    rounded = np.rint(codes / step).astype(np.int64)
    low, counts = [], []
    for column in rounded.T:
        smallest, largest = int(column.min()), int(column.max())
        margin = max(MARGIN_SYMBOLS, int(MARGIN_FRACTION * (largest - smallest)))
        start, stop = smallest - margin, largest + margin
        if stop - start + 1 > MAX_SYMBOLS:
            raise AekitError(
                f"a step of {step} gives {stop - start + 1} symbols in one code dimension "
                f"(limit {MAX_SYMBOLS}); choose a larger --step"
            )
        low.append(start)
        counts.append(tuple(np.bincount(column - start, minlength=stop - start + 1).tolist()))
    return EntropyModel(step=float(step), low=tuple(low), counts=tuple(counts))


def _categoricals(model: EntropyModel, escape: bool) -> list:
    # perfect=False: the fast, documented-stable quantisation of the probabilities; encoder and
    # decoder must agree on it, and both come from here.
    return [constriction.stream.model.Categorical(row, perfect=False) for row in model.probabilities(escape)]


def encode_symbols(model: EntropyModel, symbols: np.ndarray, escape: bool = False) -> bytes:
    """ANS-code table indices (N, D); the bytes are little-endian 32-bit words. ``escape``:
    the tables have the escape symbol (.aez version 2)."""
    coder = constriction.stream.stack.AnsCoder()
    # ANS is a stack: push dimensions last-first so that decoding pops them first-last.
    for d, categorical in reversed(list(enumerate(_categoricals(model, escape)))):
        coder.encode_reverse(np.ascontiguousarray(symbols[:, d], dtype=np.int32), categorical)
    return coder.get_compressed().astype("<u4").tobytes()


def decode_symbols(model: EntropyModel, payload: bytes, count: int, escape: bool = False) -> np.ndarray:
    """Inverse of :func:`encode_symbols`. Raises ValueError if ``payload`` does not decode
    to exactly ``count`` codes."""
    if len(payload) % 4:
        raise ValueError("payload length is not a whole number of 32-bit words")
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    try:
        coder = constriction.stream.stack.AnsCoder(words)
        columns = [coder.decode(categorical, count) for categorical in _categoricals(model, escape)]
        empty = coder.is_empty()
    except Exception as exc:  # constriction reports malformed data with various exception types
        raise ValueError(f"entropy-coded data is malformed ({exc})") from None
    if not empty:
        raise ValueError("entropy-coded data holds more than the header's count of codes")
    return np.stack(columns, axis=1).astype(np.int32) if columns else np.zeros((count, 0), np.int32)
