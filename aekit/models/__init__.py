"""Autoencoder families. Importing this package registers every family."""

from . import conv, deep, dense, vae  # noqa: F401  (each registers its family)
from .base import Autoencoder, ModelConfig
from .registry import build_model, family_recipe, model_families, register_model

__all__ = ["Autoencoder", "ModelConfig", "build_model", "family_recipe", "model_families", "register_model"]
