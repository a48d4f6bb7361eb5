"""Convolutional autoencoder for images of any size and channel count."""

from __future__ import annotations

from torch import nn

from aekit.models.base import Autoencoder
from aekit.models.config import ModelConfig
from aekit.models.registry import register_model


def _conv_block(in_channels: int, out_channels: int, stride: int = 1) -> list[nn.Module]:
    # GroupNorm keeps the activations in range: without it Adam drives the decoder's
    # pre-sigmoid values to large negatives within a few dozen steps and training dies.
    # Unlike BatchNorm it behaves the same in training and evaluation.
    return [
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
        nn.GroupNorm(_groups(out_channels), out_channels),
        nn.SiLU(),
    ]


def _groups(channels: int) -> int:
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


# Stop halving once the feature map would drop below this many pixels a side.
_SMALLEST_SIDE = 4


def stage_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """Feature-map sizes after each stride-2 stage: (28, 28) -> [(14, 14), (7, 7)]."""
    sizes = []
    while min(height, width) >= 2 * _SMALLEST_SIDE and len(sizes) < 5:
        height, width = (height + 1) // 2, (width + 1) // 2
        sizes.append((height, width))
    return sizes or [(height, width)]


def head_width(config: ModelConfig) -> int:
    # A dense layer between the conv features and the code: small codes need the extra
    # nonlinearity there far more than more convolution.
    return 8 * config.hidden


def conv_encoder_body(config: ModelConfig) -> tuple[nn.Sequential, int]:
    """Stride-2 conv stages doubling the channels, then a dense layer; returns it and its width."""
    channels, height, width = config.input_shape
    layers: list[nn.Module] = []
    in_channels, out_channels = channels, config.hidden
    sizes = stage_sizes(height, width)
    for _ in sizes:
        layers += _conv_block(in_channels, out_channels, stride=2) + _conv_block(out_channels, out_channels)
        in_channels, out_channels = out_channels, out_channels * 2
    final_h, final_w = sizes[-1]
    layers += [nn.Flatten(), nn.Linear(in_channels * final_h * final_w, head_width(config)), nn.SiLU()]
    return nn.Sequential(*layers), head_width(config)


def conv_decoder(config: ModelConfig) -> nn.Sequential:
    """The mirror of :func:`conv_encoder_body` plus a linear map from the code; sigmoid output.

    Each stage doubles the feature map's sides as ``config.upsample`` says: ``"transposed"``, a
    stride-2 transposed convolution (cheap; its overlapping kernels can paint a faint
    checkerboard), or ``"resize"``, nearest-neighbour resizing then a 3x3 convolution (four
    times the multiplications of that layer, no checkerboard; on photo crops 0.1-0.2 dB better)."""
    channels, height, width = config.input_shape
    sizes = stage_sizes(height, width)
    top = config.hidden * 2 ** (len(sizes) - 1)
    final_h, final_w = sizes[-1]
    layers: list[nn.Module] = [
        nn.Linear(config.latent_dim, head_width(config)),
        nn.SiLU(),
        nn.Linear(head_width(config), top * final_h * final_w),
        nn.SiLU(),
        nn.Unflatten(1, (top, final_h, final_w)),
    ]
    targets = [*reversed(sizes[:-1]), (height, width)]
    in_channels = top
    for index, (target_h, target_w) in enumerate(targets):
        last = index == len(targets) - 1
        out_channels = channels if last else in_channels // 2
        layers += [
            *_conv_block(in_channels, in_channels),
            *_doubling(config.upsample, in_channels, out_channels, sizes[-1 - index], (target_h, target_w)),
        ]
        layers.append(nn.Sigmoid() if last else nn.SiLU())
        in_channels = out_channels
    return nn.Sequential(*layers)


def _doubling(
    upsample: str, in_channels: int, out_channels: int, size: tuple[int, int], target: tuple[int, int]
) -> list[nn.Module]:
    """Layers taking a feature map of ``size`` to ``target`` (each side doubled, less one if odd)."""
    if upsample == "resize":
        return [nn.Upsample(size=target, mode="nearest"), nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    # output_padding picks the exact size: ceil-halving is undone to odd or even sides.
    padding_out = (target[0] - 2 * size[0] + 1, target[1] - 2 * size[1] + 1)
    return [nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=padding_out)]


@register_model("conv")
class ConvAutoencoder(Autoencoder):
    """Conv stages (stride 2, channels doubling from ``hidden``) -> dense -> linear code -> mirror.

    Works for any (C, H, W): the decoder reproduces the exact input size, odd sides included.
    """

    def __init__(self, config: ModelConfig):
        body, features = conv_encoder_body(config)
        encoder = nn.Sequential(body, nn.Linear(features, config.latent_dim))
        super().__init__(config, encoder, conv_decoder(config))
