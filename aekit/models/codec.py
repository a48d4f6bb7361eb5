"""The codec family: the conv network trained for rounded codes, plus a context predictor.

``aekit compress --quality Q`` codes an image in up to two layers: the rounded code (what the
conv decoder turns into a picture), and at higher qualities the pixels' remaining error,
rounded to a step and entropy-coded (:mod:`aekit.codec.residual`). How likely each rounded
error is depends strongly on where in the picture it falls: almost never on the background,
often along a stroke's edge. The probability table for each pixel is therefore chosen from a
prediction of the picture, which the decoder must compute exactly as the encoder did, on any
machine. Format version 3 takes it from the decoder's own picture, computed in integers
(:mod:`aekit.models.exact`). Version 2 took it from a separate small dense ``predictor`` that
:mod:`aekit.codec.exact` evaluates in integers; the family still trains it (from the same
rounded code, to imitate the decoder's picture; its gradient never reaches the code or the
decoder) so that version-2 files keep decoding with runs trained now.
"""

from __future__ import annotations

import math

from torch import nn

from aekit.models.config import ModelConfig
from aekit.models.conv import ConvAutoencoder
from aekit.models.registry import register_model

# Wide enough to picture where the strokes are (a predictor of 512 units chose tables that cost
# 6-17% more bits than the decoder's own picture would; one of 128 units, 20-30% more).
PREDICTOR_WIDTH = 512


def predictor(config: ModelConfig) -> nn.Sequential:
    """Code -> flattened picture (pixels in [0, 1], unclipped): Linear, ReLU, Linear, so that
    it can be computed exactly in integers."""
    pixels = math.prod(config.input_shape)
    return nn.Sequential(
        nn.Linear(config.latent_dim, PREDICTOR_WIDTH), nn.ReLU(), nn.Linear(PREDICTOR_WIDTH, pixels)
    )


@register_model("codec")
class CodecAutoencoder(ConvAutoencoder):
    """``conv``'s encoder and decoder plus ``predictor`` (see the module's text)."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.predictor = predictor(config)
