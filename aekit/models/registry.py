"""Model families by name: each family's class is found here by its config's ``family``."""

from __future__ import annotations

from collections.abc import Callable

import torch

from aekit.errors import ParameterError
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


# About 400 MB of float32 weights (1.6 GB with Adam's moments and the gradients): far beyond
# what aekit's recipes build, and refused before any memory is taken.
MAX_PARAMETERS = 100_000_000


def _family(name: str) -> type[Autoencoder]:
    # Importing the family modules registers them; done here so that importing the registry
    # (which they import) does not need them first.
    from aekit.models import codec, conv, deep, dense, hybrid, vae  # noqa: F401

    return _FAMILIES[name]


def _check_parameters(config: ModelConfig, count: int) -> None:
    """Refuse a model of more than MAX_PARAMETERS parameters."""
    if count > MAX_PARAMETERS:
        raise ParameterError(
            "hidden",
            config.hidden,
            f"with latent_dim={config.latent_dim} and input_shape={tuple(config.input_shape)} the "
            f"{config.family} model would have {count:,} parameters, over aekit's limit of "
            f"{MAX_PARAMETERS:,}",
        )


def training_memory(config: ModelConfig, batch_size: int) -> int:
    """Roughly the bytes training ``config`` at ``batch_size`` needs: float32 weights, their
    gradients and Adam's two moments, and every layer's output kept for the backward pass
    (counted on the meta device, without building anything). A model over the parameter
    limit is refused here already."""
    parameters, activations = _measure(_family(config.family), config)
    _check_parameters(config, parameters)
    return 4 * (4 * parameters + 3 * batch_size * activations)


def _measure(family: type[Autoencoder], config: ModelConfig) -> tuple[int, int]:
    """(parameters, values in every layer's output for one image) of a model never built."""
    with torch.device("meta"):
        probe = family(config)
        values = 0

        def count(_module, _inputs, output) -> None:
            nonlocal values
            values += output.numel() if isinstance(output, torch.Tensor) else 0

        leaves = [m for m in probe.modules() if not any(True for _ in m.children())]
        hooks = [m.register_forward_hook(count) for m in leaves]
        with torch.no_grad():
            probe(torch.empty(1, *config.input_shape))
        for hook in hooks:
            hook.remove()
    return sum(p.numel() for p in probe.parameters()), values


def build_model(config: ModelConfig, seed: int | None = None) -> Autoencoder:
    """A freshly initialised model of ``config.family`` (the config was checked when made).

    With ``seed`` the initial weights are repeatable, and the global random state is left
    as it was.
    """
    family = _family(config.family)
    # Counted on PyTorch's meta device first: a model too large is refused before any memory is taken.
    _check_parameters(config, _measure(family, config)[0])
    if seed is None:
        return family(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return family(config)
