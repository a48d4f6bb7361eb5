"""Model families by name: the command line's ``--model`` choices come from here."""

from __future__ import annotations

from collections.abc import Callable

import torch

from aekit.errors import AekitError
from aekit.models.base import Autoencoder, ModelConfig

_FAMILIES: dict[str, type[Autoencoder]] = {}


def register_model(name: str) -> Callable[[type[Autoencoder]], type[Autoencoder]]:
    """Class decorator that makes a family buildable by ``name``."""

    def add(cls: type[Autoencoder]) -> type[Autoencoder]:
        if name in _FAMILIES:
            raise ValueError(f"model family {name!r} registered twice")
        _FAMILIES[name] = cls
        return cls

    return add


def model_families() -> list[str]:
    """Names of every registered family, sorted."""
    return sorted(_FAMILIES)


def family_recipe(name: str) -> dict:
    """A family's default settings (``hidden`` and training options), overriding the tutorial's.

    A family states them in a class attribute ``recipe``; ``dense`` has none, so it keeps the
    tutorial's defaults.
    """
    if name not in _FAMILIES:
        raise AekitError(f"unknown model family {name!r}; choose one of {', '.join(model_families())}")
    return dict(getattr(_FAMILIES[name], "recipe", {}))


def build_model(config: ModelConfig, seed: int | None = None) -> Autoencoder:
    """A freshly initialised model of ``config.family``.

    With ``seed`` the initial weights are repeatable, and the global random state is left
    as it was.
    """
    if config.family not in _FAMILIES:
        raise AekitError(
            f"unknown model family {config.family!r}; choose one of {', '.join(model_families())}"
        )
    if config.latent_dim < 1 or config.hidden < 1:
        raise AekitError("--latent-dim and --hidden must be positive whole numbers")
    if seed is None:
        return _FAMILIES[config.family](config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _FAMILIES[config.family](config)
