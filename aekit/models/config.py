"""The model's settings: everything needed to rebuild a network before its weights are loaded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from aekit.errors import ParameterError, check_whole
from aekit.models.recipes import family_recipe

# Far beyond any model aekit trains, and small enough that building one never exhausts memory.
MAX_WIDTH = 65_536
MAX_SIDE = 4096
MAX_CHANNELS = 4
# The tutorial's code size, for every family whose recipe names none.
DEFAULT_LATENT_DIM = 2
# How conv decoders double their feature maps (aekit.models.conv.conv_decoder); the first is
# the default, and what every run saved before this setting existed was built with.
UPSAMPLING = ("transposed", "resize")


@dataclass
class ModelConfig:
    """A family, the image shape it takes (channels, height, width), its code size and width.

    ``hidden`` is the family's width knob (the dense layer for ``dense``, the first layer for
    ``deep``, the first conv channels for ``conv``, ``vae``, ``hybrid`` and ``codec``); left as
    None it takes the family's recipe, as does ``latent_dim`` (2 unless the recipe says
    otherwise), so ``ModelConfig(family="conv", latent_dim=32)`` is the model that
    ``aekit train --model conv --latent-dim 32`` builds. ``upsample`` is how a conv decoder
    enlarges its feature maps (one of ``UPSAMPLING``; the recipe's, else ``"transposed"``;
    ignored by the dense families). Saved as JSON beside the weights.
    """

    family: str = "dense"
    input_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int | None = None
    hidden: int | None = None
    upsample: str | None = None

    def __post_init__(self) -> None:
        recipe = family_recipe(self.family) if isinstance(self.family, str) else None
        if recipe is None:
            raise ParameterError("family", self.family, "must be a family name such as 'dense'")
        if self.hidden is None:
            self.hidden = recipe["hidden"]
        if self.latent_dim is None:
            self.latent_dim = recipe.get("latent_dim", DEFAULT_LATENT_DIM)
        self.latent_dim = check_whole("latent_dim", self.latent_dim, 1, MAX_WIDTH)
        self.hidden = check_whole("hidden", self.hidden, 1, MAX_WIDTH)
        if self.upsample is None:
            self.upsample = recipe.get("upsample", UPSAMPLING[0])
        if self.upsample not in UPSAMPLING:
            raise ParameterError("upsample", self.upsample, f"must be one of {', '.join(UPSAMPLING)}")
        self.input_shape = _shape(self.input_shape)

    def to_dict(self) -> dict:
        return {**asdict(self), "input_shape": list(self.input_shape)}

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """The config that :meth:`to_dict` wrote; every field is checked as if passed by hand."""
        if not isinstance(data, dict):
            raise ParameterError("model", data, "must be a JSON object")
        unknown = set(data) - MODEL_SETTINGS
        if unknown:
            raise ParameterError("model", sorted(unknown), "unknown settings")
        # A config saved before the setting existed describes transposed convolutions.
        return cls(**{"upsample": UPSAMPLING[0], **data})


# The settings that belong to the model, not to training: recipes and estimator parameters
# that carry these names go to ModelConfig.
MODEL_SETTINGS = frozenset(field.name for field in fields(ModelConfig))


def _shape(value: object) -> tuple[int, int, int]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ParameterError("input_shape", value, "must be (channels, height, width)")
    limits = (MAX_CHANNELS, MAX_SIDE, MAX_SIDE)
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= most
        for v, most in zip(value, limits, strict=True)
    ):
        raise ParameterError(
            "input_shape", value, f"needs 1 to {MAX_CHANNELS} channels and sides of 1 to {MAX_SIDE} pixels"
        )
    return tuple(value)
