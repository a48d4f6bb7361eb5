import numpy as np
import pytest

from aekit.errors import AekitError
from aekit.explore import interpolation_codes, latent_axes, manifold_codes, prior_samples


def test_manifold_grid_spans_the_2d_codes_row_major_from_the_top():
    rng = np.random.default_rng(0)
    codes = rng.uniform([-3, 10], [5, 20], size=(5000, 2)).astype(np.float32)
    grid = manifold_codes(codes, 4, coverage=1.0)
    assert grid.shape == (16, 2)
    np.testing.assert_allclose(grid[0], [codes[:, 0].min(), codes[:, 1].max()], rtol=1e-5)
    np.testing.assert_allclose(grid[-1], [codes[:, 0].max(), codes[:, 1].min()], rtol=1e-5)
    assert np.all(np.diff(grid[:4, 0]) > 0)  # x grows along a row


def test_manifold_of_larger_codes_lies_in_their_main_plane():
    rng = np.random.default_rng(1)
    plane = rng.standard_normal((2, 6))
    codes = rng.standard_normal((2000, 2)) @ plane + 3.0  # exactly planar 6-D codes
    centre, directions = latent_axes(codes)
    np.testing.assert_allclose(directions @ directions.T, np.eye(2), atol=1e-8)
    grid = manifold_codes(codes.astype(np.float32), 5)
    residual = (grid - centre) - ((grid - centre) @ directions.T) @ directions
    assert np.abs(residual).max() < 1e-4


def test_interpolation_starts_and_ends_at_the_two_codes():
    line = interpolation_codes(np.array([0.0, 2.0]), np.array([4.0, -2.0]), 5)
    np.testing.assert_allclose(line, [[0, 2], [1, 1], [2, 0], [3, -1], [4, -2]])
    with pytest.raises(AekitError, match="steps=1: must be at least 2"):
        interpolation_codes(np.zeros(2), np.ones(2), 1)


def test_prior_samples_are_standard_normal_and_repeatable():
    draws = prior_samples(20000, 3, seed=4)
    assert draws.shape == (20000, 3)
    assert np.abs(draws.mean(axis=0)).max() < 0.05 and np.abs(draws.std(axis=0) - 1).max() < 0.05
    np.testing.assert_array_equal(draws, prior_samples(20000, 3, seed=4))
