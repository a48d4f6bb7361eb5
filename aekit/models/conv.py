"""Convolutional autoencoder for images of any size and channel count."""

from __future__ import annotations

from torch import nn

from .base import Autoencoder, ModelConfig
from .registry import register_model

# Stop halving once the feature map would drop below this many pixels a side.
_SMALLEST_SIDE = 4


def stage_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """Feature-map sizes after each stride-2 stage: (28, 28) -> [(14, 14), (7, 7)]."""
    sizes = []
    while min(height, width) >= 2 * _SMALLEST_SIDE and len(sizes) < 5:
        height, width = (height + 1) // 2, (width + 1) // 2
        sizes.append((height, width))
    return sizes or [(height, width)]


def conv_encoder_body(config: ModelConfig) -> tuple[nn.Sequential, int]:
    """Stride-2 conv stages doubling the channels, flattened; returns it and its feature count."""
    channels, height, width = config.input_shape
    layers: list[nn.Module] = []
    in_channels, out_channels = channels, config.hidden
    sizes = stage_sizes(height, width)
    for _ in sizes:
        layers += [
            nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            nn.SiLU(),
        ]
        in_channels, out_channels = out_channels, out_channels * 2
    final_h, final_w = sizes[-1]
    layers.append(nn.Flatten())
    return nn.Sequential(*layers), in_channels * final_h * final_w


def conv_decoder(config: ModelConfig) -> nn.Sequential:
    """The mirror of :func:`conv_encoder_body` plus a linear map from the code; sigmoid output."""
    channels, height, width = config.input_shape
    sizes = stage_sizes(height, width)
    top = config.hidden * 2 ** (len(sizes) - 1)
    final_h, final_w = sizes[-1]
    layers: list[nn.Module] = [
        nn.Linear(config.latent_dim, top * final_h * final_w),
        nn.SiLU(),
        nn.Unflatten(1, (top, final_h, final_w)),
    ]
    targets = [*reversed(sizes[:-1]), (height, width)]
    in_channels = top
    for index, (target_h, target_w) in enumerate(targets):
        last = index == len(targets) - 1
        out_channels = channels if last else in_channels // 2
        current_h, current_w = sizes[-1 - index]
        # output_padding picks the exact size: ceil-halving is undone to odd or even sides.
        padding_out = (target_h - 2 * current_h + 1, target_w - 2 * current_w + 1)
        layers += [
            nn.Conv2d(in_channels, in_channels, 3, padding=1),
            nn.SiLU(),
            nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=padding_out),
        ]
        layers.append(nn.Sigmoid() if last else nn.SiLU())
        in_channels = out_channels
    return nn.Sequential(*layers)


@register_model("conv")
class ConvAutoencoder(Autoencoder):
    """Conv stages (stride 2, channels doubling from ``hidden``) -> linear code -> mirror.

    Works for any (C, H, W): the decoder reproduces the exact input size, odd sides included.
    """

    recipe = {"hidden": 32, "epochs": 20, "batch_size": 128, "lr": 0.002, "schedule": "cosine"}

    def __init__(self, config: ModelConfig):
        body, features = conv_encoder_body(config)
        encoder = nn.Sequential(body, nn.Linear(features, config.latent_dim))
        super().__init__(config, encoder, conv_decoder(config))
