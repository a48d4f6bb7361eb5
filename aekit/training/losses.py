"""Training objectives, kept out of the models so a model stays a plain encoder + decoder."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from aekit.models import Autoencoder
from aekit.models.vae import VariationalAutoencoder


def corrupt(images: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise of standard deviation ``noise`` added to images, clipped to [0, 1]."""
    if noise <= 0:
        return images
    jitter = torch.randn(images.shape, generator=generator, device=generator.device)
    return (images + noise * jitter).clamp_(0.0, 1.0)


def objective(
    model: Autoencoder,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    kl_weight: float,
    generator: torch.Generator,
    quantize: bool = False,
    rate_weight: float = 0.0,
    warmup: float = 1.0,
) -> torch.Tensor:
    """The loss to minimise for one batch: per-pixel MSE, plus the KL term for a VAE, plus the
    rate term when training for compression.

    ``inputs`` may be a corrupted copy of ``targets`` (denoising). For a VAE the code is
    sampled with the reparameterisation trick and the KL divergence to N(0, I), summed over
    the code and divided by the pixel count, is added with weight ``kl_weight``.

    With ``quantize`` the decoder sees each code plus uniform noise in [-0.5, 0.5): the error
    that rounding to a step of 1 will make, in a form gradients pass through. The rate term,
    :func:`rate_bits` per pixel times ``rate_weight``, keeps the codes from simply growing
    until the noise no longer matters. ``warmup`` (0 to 1) scales both the noise and the rate
    term: starting them at full strength lets them drown codes that are still small, and the
    network then learns to ignore its codes (every image decodes to the same picture).
    """
    if quantize:
        codes = model.encoder(inputs)
        rounding = torch.rand(codes.shape, generator=generator, device=generator.device) - 0.5
        noisy = codes + warmup * rounding
        decoded = model.decoder(noisy)
        loss = F.mse_loss(decoded, targets) + warmup * rate_weight * rate_bits(codes) / targets[0].numel()
        predictor = getattr(model, "predictor", None)
        if predictor is not None:
            # The codec family's context predictor imitates the decoder from the same code;
            # detached, so it never pulls on the code or the decoder.
            loss = loss + F.mse_loss(predictor(noisy.detach()), decoded.detach().flatten(1))
        return loss
    if isinstance(model, VariationalAutoencoder):
        mean, log_var = model.encoder.distribution(inputs)
        epsilon = torch.randn(mean.shape, generator=generator, device=generator.device)
        codes = mean + torch.exp(0.5 * log_var) * epsilon
        reconstruction = F.mse_loss(model.decoder(codes), targets)
        kl = -0.5 * torch.sum(1 + log_var - mean.square() - log_var.exp(), dim=1).mean()
        return reconstruction + kl_weight * kl / targets[0].numel()
    return F.mse_loss(model(inputs), targets)


def draws_random_numbers(model: Autoencoder, *, noise: float, quantize: bool) -> bool:
    """Whether a training step of ``model`` draws random numbers (input noise, rounding noise
    or a VAE's sampled code), which a replayed CUDA graph would repeat instead of redrawing."""
    return noise > 0 or quantize or isinstance(model, VariationalAutoencoder)


def rate_bits(codes: torch.Tensor) -> torch.Tensor:
    """A smooth estimate of the bits per code after rounding to a step of 1.

    For each dimension, 0.5 * log2(1 + 12 * variance): the information a Gaussian signal of
    that variance keeps through additive noise of one step's width (variance 1/12), an upper
    bound on what rounding keeps. It needs no learned density, and it shrinks the codes'
    spread in the dimensions that help reconstruction least.
    """
    variance = codes.var(dim=0, unbiased=False)
    return 0.5 * torch.log2(1 + 12 * variance).sum()
