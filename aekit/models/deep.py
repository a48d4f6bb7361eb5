"""A deeper multilayer perceptron: three hidden layers each side, halving in width."""

from __future__ import annotations

import math

from torch import nn

from aekit.models.base import Autoencoder
from aekit.models.config import ModelConfig
from aekit.models.registry import register_model


def _mlp(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.SiLU()]
    return layers


@register_model("deep")
class DeepAutoencoder(Autoencoder):
    """pixels -> h -> h/2 -> h/4 -> code -> h/4 -> h/2 -> h -> pixels (sigmoid).

    With ``hidden`` = 1000 this is the 1000-500-250 shape of Hinton & Salakhutdinov (2006),
    trained directly with Adam rather than with RBM pre-training. The code layer is linear,
    so codes are not squashed; the sigmoid keeps outputs in the pixel range [0, 1].
    """

    def __init__(self, config: ModelConfig):
        pixels = math.prod(config.input_shape)
        widths = [config.hidden, max(1, config.hidden // 2), max(1, config.hidden // 4)]
        encoder = nn.Sequential(
            nn.Flatten(), *_mlp([pixels, *widths]), nn.Linear(widths[-1], config.latent_dim)
        )
        decoder = nn.Sequential(
            *_mlp([config.latent_dim, *reversed(widths)]),
            nn.Linear(widths[0], pixels),
            nn.Sigmoid(),
            nn.Unflatten(1, tuple(config.input_shape)),
        )
        super().__init__(config, encoder, decoder)
