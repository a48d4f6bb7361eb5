"""Variational autoencoder: the encoder gives a Gaussian per image; the decoder generates."""

from __future__ import annotations

import torch
from torch import nn

from aekit.models.base import Autoencoder
from aekit.models.config import ModelConfig
from aekit.models.conv import conv_decoder, conv_encoder_body
from aekit.models.registry import register_model


class GaussianEncoder(nn.Module):
    """Images -> mean and log-variance of a diagonal Gaussian over codes.

    Called directly it returns the mean, so it can be used like any other encoder.
    """

    def __init__(self, body: nn.Module, features: int, latent_dim: int):
        super().__init__()
        self.body = body
        self.mean = nn.Linear(features, latent_dim)
        self.log_var = nn.Linear(features, latent_dim)

    def distribution(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(images)
        return self.mean(features), self.log_var(features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.mean(self.body(images))


@register_model("vae")
class VariationalAutoencoder(Autoencoder):
    """Convolutional VAE; decode codes drawn from N(0, I) to generate new images."""

    def __init__(self, config: ModelConfig):
        body, features = conv_encoder_body(config)
        super().__init__(config, GaussianEncoder(body, features, config.latent_dim), conv_decoder(config))
