"""Autoencoder families. Importing this package registers every family."""

from aekit.models import conv, deep, dense, vae  # noqa: F401  (each registers its family)
from aekit.models.base import Autoencoder, ModelConfig
from aekit.models.registry import build_model, family_recipe, model_families, register_model

__all__ = ["Autoencoder", "ModelConfig", "build_model", "family_recipe", "model_families", "register_model"]
