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


def ssim(original: np.ndarray, reconstructed: np.ndarray, batch_size: int = 2000) -> float:
    """Mean structural similarity (Wang et al., 2004) of images (N, C, H, W) in [0, 1].

    The usual settings: an 11x11 Gaussian window of standard deviation 1.5 (cut to the image
    for small images), constants (0.01)^2 and (0.03)^2, averaged over every valid window
    position, channel and image.
    """
    import torch
    from torch.nn import functional as F

    channels, height, width = original.shape[1:]
    size = min(11, height, width)
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    profile = torch.exp(-(offsets**2) / (2 * 1.5**2))
    profile /= profile.sum()
    window = (profile[:, None] * profile[None, :]).expand(channels, 1, size, size)
    c1, c2 = 0.01**2, 0.03**2
    total, count = 0.0, 0
    for start in range(0, len(original), batch_size):
        x = torch.as_tensor(original[start : start + batch_size], dtype=torch.float64)
        y = torch.as_tensor(reconstructed[start : start + batch_size], dtype=torch.float64)

        def blur(image: torch.Tensor) -> torch.Tensor:
            return F.conv2d(image, window, groups=channels)

        mean_x, mean_y = blur(x), blur(y)
        var_x = blur(x * x) - mean_x**2
        var_y = blur(y * y) - mean_y**2
        covariance = blur(x * y) - mean_x * mean_y
        index = ((2 * mean_x * mean_y + c1) * (2 * covariance + c2)) / (
            (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
        )
        total += float(index.sum())
        count += index.numel()
    return total / count
