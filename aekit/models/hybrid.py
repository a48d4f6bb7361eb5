"""PCA plus a convolutional correction: a model that starts where PCA ends.

On a few thousand crops of photos a convolutional autoencoder alone stays 3-4 dB below PCA at
the same code size (it cannot learn from so little what PCA gets from the data's covariance
in closed form). This family begins *as* PCA and trains a convolutional residual on top:

    code  = P (x - mean) + conv_encoder(x)
    image = mean + P^T code + conv_decoder(code)

``P`` (the code size's main directions) and ``mean`` are fitted to the training images in
:meth:`HybridAutoencoder.prepare` before the first step; the residual networks' last layers
start at zero, so the untrained model reproduces PCA exactly and training can only start from
there. ``P`` keeps training too.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from aekit.models.base import Autoencoder
from aekit.models.config import ModelConfig
from aekit.models.conv import conv_decoder, conv_encoder_body
from aekit.models.registry import register_model

# PCA is fitted on at most this many training images (a random sample beyond that).
PCA_SAMPLE = 20_000


class _Encoder(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        pixels = math.prod(config.input_shape)
        self.register_buffer("mean", torch.zeros(pixels))
        self.project = nn.Linear(pixels, config.latent_dim, bias=False)
        body, features = conv_encoder_body(config)
        self.correction = nn.Sequential(body, nn.Linear(features, config.latent_dim))
        _zero(self.correction[-1])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(images.flatten(1) - self.mean) + self.correction(images)


class HybridDecoder(nn.Module):
    """codes -> mean + unproject(codes) + correction(codes), clipped to [0, 1] in evaluation."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.shape = tuple(config.input_shape)
        pixels = math.prod(config.input_shape)
        self.register_buffer("mean", torch.zeros(pixels))
        self.unproject = nn.Linear(config.latent_dim, pixels, bias=False)
        # The conv family's decoder (resizing, by the recipe) without its final sigmoid: a
        # correction can be negative.
        self.correction = nn.Sequential(*list(conv_decoder(config))[:-1])
        _zero(self.correction[-1])

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        linear = (self.unproject(codes) + self.mean).unflatten(1, self.shape)
        images = linear + self.correction(codes)
        # Training sees the unclipped output (clipping would stop its gradient); users get pixels.
        return images if self.training else images.clamp(0.0, 1.0)


def _zero(layer: nn.Module) -> None:
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


@register_model("hybrid")
class HybridAutoencoder(Autoencoder):
    """PCA's linear code and reconstruction plus convolutional corrections of both (``conv``'s
    encoder and decoder, from ``hidden`` channels); for photos and other natural images."""

    def __init__(self, config: ModelConfig):
        super().__init__(config, _Encoder(config), HybridDecoder(config))

    def prepare(self, images: np.ndarray | torch.Tensor, seed: int = 0) -> None:
        """Start from PCA of ``images`` (N, C, H, W): the mean image and the main directions."""
        flat = torch.as_tensor(images).flatten(1).float()
        if len(flat) > PCA_SAMPLE:
            chosen = torch.randperm(len(flat), generator=torch.Generator().manual_seed(seed))[:PCA_SAMPLE]
            flat = flat[chosen.to(flat.device)]
        flat = flat.to(self.encoder.mean.device)
        mean = flat.mean(dim=0)
        directions = torch.zeros(self.config.latent_dim, flat.shape[1], device=flat.device)
        rank = min(self.config.latent_dim, *flat.shape)
        if rank > 0:
            # A randomised SVD finds the main directions in time linear in the pixel count;
            # seeded, and leaving the global random state as it was (as build_model does).
            with torch.random.fork_rng(devices=[flat.device] if flat.device.type == "cuda" else []):
                torch.manual_seed(seed)
                oversampled = min(rank + 10, *flat.shape)
                _, _, vectors = torch.pca_lowrank(flat - mean, q=oversampled, center=False, niter=6)
            directions[:rank] = vectors[:, :rank].T
        with torch.no_grad():
            self.encoder.mean.copy_(mean)
            self.decoder.mean.copy_(mean)
            self.encoder.project.weight.copy_(directions)
            self.decoder.unproject.weight.copy_(directions.T)
