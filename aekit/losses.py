"""Training objectives, kept out of the models so a model stays a plain encoder + decoder."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .models import Autoencoder
from .models.vae import VariationalAutoencoder


def corrupt(images: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise of standard deviation ``noise`` added to images, clipped to [0, 1]."""
    if noise <= 0:
        return images
    jitter = torch.randn(images.shape, generator=generator, device="cpu").to(images.device)
    return (images + noise * jitter).clamp_(0.0, 1.0)


def objective(
    model: Autoencoder,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    kl_weight: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """The loss to minimise for one batch: per-pixel MSE, plus the KL term for a VAE.

    ``inputs`` may be a corrupted copy of ``targets`` (denoising). For a VAE the code is
    sampled with the reparameterisation trick and the KL divergence to N(0, I), summed over
    the code and divided by the pixel count, is added with weight ``kl_weight``.
    """
    if not isinstance(model, VariationalAutoencoder):
        return F.mse_loss(model(inputs), targets)
    mean, log_var = model.encoder.distribution(inputs)
    epsilon = torch.randn(mean.shape, generator=generator, device="cpu").to(mean.device)
    codes = mean + torch.exp(0.5 * log_var) * epsilon
    reconstruction = F.mse_loss(model.decoder(codes), targets)
    kl = -0.5 * torch.sum(1 + log_var - mean.square() - log_var.exp(), dim=1).mean()
    return reconstruction + kl_weight * kl / targets[0].numel()
