import math

import numpy as np
import pytest

from aekit.metrics import mse, psnr, ssim


@pytest.fixture
def images():
    return np.random.default_rng(0).random((20, 1, 28, 28)).astype(np.float32)


def test_mse_and_psnr(images):
    assert mse(images, images) == 0 and psnr(0.0) == math.inf
    assert psnr(mse(images, np.clip(images + 0.1, 0, None))) == pytest.approx(20.0, abs=0.01)


def test_ssim_is_one_for_identical_images_and_falls_with_noise(images):
    rng = np.random.default_rng(1)
    assert ssim(images, images) == pytest.approx(1.0)
    scores = [ssim(images, np.clip(images + rng.normal(0, s, images.shape), 0, 1)) for s in (0.05, 0.1, 0.3)]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.95 > 0.8 > scores[-1]
    # Symmetric, and the same whether computed in one batch or many.
    noisy = np.clip(images + 0.2, 0, 1)
    assert ssim(images, noisy) == pytest.approx(ssim(noisy, images))
    assert ssim(images, noisy, batch_size=3) == pytest.approx(ssim(images, noisy))
