"""Autoencoder families. Importing this package registers every family."""

from . import dense  # noqa: F401  (registers "dense")
from .base import Autoencoder, ModelConfig
from .registry import build_model, model_families, register_model

__all__ = ["Autoencoder", "ModelConfig", "build_model", "model_families", "register_model"]
