"""Autoencoder families: plain ``torch.nn.Module``s with an ``encoder`` and a ``decoder``.

Names are imported on first use, so the torch-free parts (configs, recipes) load fast.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Autoencoder": "aekit.models.base",
    "ModelConfig": "aekit.models.config",
    "family_recipe": "aekit.models.recipes",
    "model_families": "aekit.models.recipes",
    "build_model": "aekit.models.registry",
    "register_model": "aekit.models.registry",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'aekit.models' has no attribute {name!r}")
