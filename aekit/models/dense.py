"""The tutorial's model: one hidden dense layer each side of the code, LeakyReLU everywhere."""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from aekit.models.base import Autoencoder, keras_initialise
from aekit.models.config import ModelConfig
from aekit.models.registry import register_model

# Keras' LeakyReLU default slope, which the tutorial relies on (PyTorch's default is 0.01).
KERAS_LEAKY_SLOPE = 0.3


@register_model("dense")
class DenseAutoencoder(Autoencoder):
    """pixels -> hidden -> code -> hidden -> pixels, each dense layer followed by LeakyReLU(0.3).

    With the defaults (28x28x1, hidden 300, code 2) this is exactly the tutorial's network:
    236,102 encoder and 236,884 decoder parameters.
    """

    def __init__(self, config: ModelConfig):
        pixels = math.prod(config.input_shape)
        encoder = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),  # (N, C, H, W) -> (N, C*H*W)
                dense_1=nn.Linear(pixels, config.hidden),
                leakyrelu_1=nn.LeakyReLU(KERAS_LEAKY_SLOPE),
                dense_2=nn.Linear(config.hidden, config.latent_dim),
                output=nn.LeakyReLU(KERAS_LEAKY_SLOPE),
            )
        )
        decoder = nn.Sequential(
            OrderedDict(
                dense_1=nn.Linear(config.latent_dim, config.hidden),
                leakyrelu_1=nn.LeakyReLU(KERAS_LEAKY_SLOPE),
                dense_2=nn.Linear(config.hidden, pixels),
                output=nn.LeakyReLU(KERAS_LEAKY_SLOPE),
                unflatten=nn.Unflatten(1, tuple(config.input_shape)),
            )
        )
        super().__init__(config, encoder, decoder)
        keras_initialise(self)
