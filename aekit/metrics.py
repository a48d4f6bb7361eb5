"""Reconstruction quality measures on images in [0, 1]."""

from __future__ import annotations

import math

import numpy as np


def mse(original: np.ndarray, reconstructed: np.ndarray) -> float:
    """Mean squared error per pixel, accumulated in float64."""
    diff = original.astype(np.float64) - reconstructed.astype(np.float64)
    return float(np.mean(diff * diff))


def psnr(mean_squared_error: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of a mean squared error (infinite for a perfect match)."""
    if mean_squared_error <= 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mean_squared_error)
