"""Model families by name: each family's class is found here by its config's ``family``."""

from __future__ import annotations

from collections.abc import Callable

import torch

from aekit.models.base import Autoencoder
from aekit.models.config import ModelConfig
from aekit.models.recipes import FAMILY_RECIPES

_FAMILIES: dict[str, type[Autoencoder]] = {}


def register_model(name: str) -> Callable[[type[Autoencoder]], type[Autoencoder]]:
    """Class decorator that makes a family buildable by ``name`` (which needs a recipe in
    :data:`aekit.models.recipes.FAMILY_RECIPES`)."""

    def add(cls: type[Autoencoder]) -> type[Autoencoder]:
        if name in _FAMILIES:
            raise ValueError(f"model family {name!r} registered twice")
        if name not in FAMILY_RECIPES:
            raise ValueError(f"model family {name!r} has no recipe in aekit.models.recipes")
        _FAMILIES[name] = cls
        return cls

    return add


def build_model(config: ModelConfig, seed: int | None = None) -> Autoencoder:
    """A freshly initialised model of ``config.family`` (the config was checked when made).

    With ``seed`` the initial weights are repeatable, and the global random state is left
    as it was.
    """
    # Importing the family modules registers them; done here so that importing the registry
    # (which they import) does not need them first.
    from aekit.models import conv, deep, dense, vae  # noqa: F401

    family = _FAMILIES[config.family]
    if seed is None:
        return family(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return family(config)
