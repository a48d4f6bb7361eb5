import pytest
import torch

from aekit.models import ModelConfig, build_model
from aekit.training.losses import corrupt, objective


def test_corruption_is_clipped_noise_of_the_requested_strength():
    images = torch.full((200, 1, 28, 28), 0.5)
    noisy = corrupt(images, 0.1, torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert abs((noisy - images).std().item() - 0.1) < 0.005
    assert corrupt(images, 0.0, torch.Generator()) is images


def test_vae_objective_adds_a_kl_term_that_its_weight_scales():
    model = build_model(ModelConfig(family="vae", latent_dim=4, hidden=8), seed=0)
    images = torch.rand(8, 1, 28, 28)

    def loss(weight):
        return objective(model, images, images, kl_weight=weight, generator=torch.Generator().manual_seed(0))

    without, with_kl, double = loss(0.0), loss(1.0), loss(2.0)
    assert with_kl > without
    torch.testing.assert_close(double - without, 2 * (with_kl - without))


def test_plain_objective_is_mse_against_the_clean_targets():
    model = build_model(ModelConfig(hidden=8), seed=0)
    clean = torch.rand(4, 1, 28, 28)
    noisy = clean + 0.1
    expected = torch.nn.functional.mse_loss(model(noisy), clean)
    torch.testing.assert_close(
        objective(model, noisy, clean, kl_weight=1.0, generator=torch.Generator()), expected
    )


def test_rate_estimate_grows_with_the_spread_of_the_codes():
    from aekit.training.losses import rate_bits

    codes = torch.randn(1000, 3, generator=torch.Generator().manual_seed(0))
    assert rate_bits(torch.zeros(10, 3)).item() == 0
    # Four times the spread: about two more bits per dimension once the spread dwarfs a step.
    assert (rate_bits(40 * codes) - rate_bits(10 * codes)).item() == pytest.approx(6.0, abs=0.05)


def test_quantized_objective_adds_the_weighted_rate():
    model = build_model(ModelConfig(latent_dim=4, hidden=8), seed=0)
    images = torch.rand(8, 1, 28, 28)

    def loss(weight):
        generator = torch.Generator().manual_seed(0)
        return objective(
            model, images, images, kl_weight=1.0, quantize=True, rate_weight=weight, generator=generator
        )

    without, with_rate, double = loss(0.0), loss(1.0), loss(2.0)
    assert with_rate > without
    torch.testing.assert_close(double - without, 2 * (with_rate - without))
