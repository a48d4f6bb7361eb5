"""What every model family shares: the encoder/decoder split and Keras-style init."""

from __future__ import annotations

import torch
from torch import nn

from aekit.models.config import ModelConfig


class Autoencoder(nn.Module):
    """An encoder and a decoder that can each be used on their own.

    ``encoder`` maps images (N, C, H, W) to codes (N, latent_dim); ``decoder`` maps any codes,
    including ones the encoder never produced, back to images (N, C, H, W).
    """

    def __init__(self, config: ModelConfig, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.decoder(codes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))

    def prepare(self, images, seed: int = 0) -> None:
        """Fit whatever a family derives from the training images (N, C, H, W) before its first
        step; nothing for most. Not called when training resumes from a checkpoint."""


def keras_initialise(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras' Dense and Conv layers start."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def weights_mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """How the tensors ``state`` differ from ``model``'s in names and shapes ("" if they fit)."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in state.items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
    parts = (
        f"missing {', '.join(missing)}" if missing else "",
        f"unexpected {', '.join(unexpected)}" if unexpected else "",
        ", ".join(f"{n} is {found[n]} not {expected[n]}" for n in wrong),
    )
    return "; ".join(part for part in parts if part)
