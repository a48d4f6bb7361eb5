"""Codes to look at: grids over the latent plane, straight lines between images, random draws."""

from __future__ import annotations

import numpy as np

from aekit.errors import AekitError, ParameterError


def latent_axes(codes: np.ndarray, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Centre and up to ``count`` orthonormal directions (rows) along which ``codes`` (N, D) vary most.

    For 2-D codes these are the code axes themselves around 0, so positions stay the codes'
    own numbers; for larger codes the main PCA directions around the mean code.
    """
    if codes.shape[1] < 2:
        raise AekitError("a latent plane needs codes of at least 2 numbers")
    if codes.shape[1] == 2:
        return np.zeros(2, codes.dtype), np.eye(2, dtype=codes.dtype)
    centre = codes.mean(axis=0)
    _, _, directions = np.linalg.svd(codes - centre, full_matrices=False)
    return centre, directions[:count]


def manifold_codes(codes: np.ndarray, n: int, coverage: float = 0.98) -> np.ndarray:
    """An n x n grid of codes (row-major, top row first) spanning where ``codes`` lie.

    The span in each plane direction is the central ``coverage`` fraction of the codes, so a
    few outliers do not leave most of the grid empty.
    """
    if n < 2:
        raise AekitError(f"-n must be at least 2 (got {n})")
    centre, directions = latent_axes(codes)
    coords = (codes - centre) @ directions.T  # (N, 2) positions in the plane
    tail = (1 - coverage) / 2 * 100
    low, high = np.percentile(coords, [tail, 100 - tail], axis=0)
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(high[1], low[1], n)  # top row = largest second coordinate, as on a plot
    grid = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    return (centre + grid @ directions).astype(np.float32)


def interpolation_codes(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` codes evenly spaced on the straight line from ``start`` to ``end`` (both included)."""
    if steps < 2:
        raise ParameterError("steps", steps, "must be at least 2")
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return ((1 - weights) * start + weights * end).astype(np.float32)


def prior_samples(count: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """``count`` codes drawn from the standard normal prior of a VAE."""
    if count < 1:
        raise AekitError(f"-n must be at least 1 (got {count})")
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype(np.float32)


def interpolation_strip(model, images: np.ndarray, first: int, second: int, steps: int) -> np.ndarray:
    """Image ``first``, ``steps`` decodings on the line between the two codes, image ``second``."""
    from aekit.inference import decode, encode  # local: keeps this module NumPy-only to import

    for index in (first, second):
        if not 0 <= index < len(images):
            raise ParameterError(
                "pair", f"{first},{second}", f"indices must lie in the test split (0 to {len(images) - 1})"
            )
    if not 1 <= steps <= MAX_STEPS:
        raise ParameterError("steps", steps, f"must be between 1 and {MAX_STEPS}")
    ends = images[[first, second]]
    codes = encode(model, ends)
    line = decode(model, interpolation_codes(codes[0], codes[1], steps))
    return np.concatenate([ends[:1], line, ends[1:]])


MAX_GRID_SIDE = 100
MAX_STEPS = 1000
MAX_SAMPLES = 10_000


def sample_images(model, count: int, seed: int = 0) -> np.ndarray:
    """``count`` new images decoded from codes drawn from a VAE's N(0, I) prior."""
    from aekit.inference import decode
    from aekit.models.vae import VariationalAutoencoder

    if not isinstance(model, VariationalAutoencoder):
        raise AekitError(
            f"this is a {model.config.family} model; sampling needs one trained with --model vae"
        )
    if not 1 <= count <= MAX_SAMPLES:
        raise ParameterError("n", count, f"must be between 1 and {MAX_SAMPLES:,}")
    return decode(model, prior_samples(count, model.config.latent_dim, seed))


def manifold_images(run, n: int) -> np.ndarray:
    """An n x n grid of images decoded across the region the run's training codes occupy."""
    from aekit.data.folders import load_split
    from aekit.inference import decode, encode

    if not 1 <= n <= MAX_GRID_SIDE:
        raise ParameterError("n", n, f"must be between 1 and {MAX_GRID_SIDE}")
    codes = encode(run.model, load_split(run.dataset, "test").images)
    return decode(run.model, manifold_codes(codes, n))
