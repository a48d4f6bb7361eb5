"""NumPy arrays and torch tensors as users hold images, to and from the (N, C, H, W) float32
batches the networks take.

A layout remembers how the user's images looked, (N, D), (N, H, W) or (N, C, H, W), one
image or a batch, uint8 or float, NumPy or torch, so results come back the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aekit.errors import ParameterError

KINDS = ("chw", "hw", "flat")


@dataclass(frozen=True)
class Layout:
    """How a user's images are laid out: ``kind`` is the shape of one image ("chw", "hw" or
    "flat"), ``uint8`` whether pixels are 0..255 rather than floats in [0, 1]."""

    kind: str = "chw"
    uint8: bool = False
    float_dtype: str = "float32"

    def image_shape(self, shape: tuple[int, int, int]) -> tuple[int, ...]:
        channels, height, width = shape
        return {"chw": shape, "hw": (height, width), "flat": (channels * height * width,)}[self.kind]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "uint8": self.uint8, "float_dtype": self.float_dtype}

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        layout = cls(**data)
        if layout.kind not in KINDS:
            raise ParameterError("layout", layout.kind, f"must be one of {', '.join(KINDS)}")
        return layout


def shape_of_batch(x, parameter: str = "x") -> tuple[int, int, int]:
    """The (C, H, W) of one image in a batch: (N, C, H, W), (N, H, W), or (N, D) with D a
    square number of gray pixels (otherwise treated as a 1 x D image)."""
    array = _as_numpy(x, parameter)
    if array.ndim == 4:
        return tuple(int(v) for v in array.shape[1:])
    if array.ndim == 3:
        return (1, int(array.shape[1]), int(array.shape[2]))
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        return (1, side, side) if side * side == array.shape[1] else (1, 1, int(array.shape[1]))
    raise ParameterError(
        parameter, f"array of shape {array.shape}", "expected (N, D), (N, H, W) or (N, C, H, W)"
    )


def to_batch(
    x, shape: tuple[int, int, int], parameter: str = "x", prefer: str = "chw"
) -> tuple[np.ndarray, Layout, bool, object]:
    """``x`` as float32 (N, C, H, W) in [0, 1], with its layout, whether it was one image,
    and the torch device it came from (None for NumPy input).

    Accepts uint8 (scaled by 1/255) or any float dtype, NumPy or torch, a batch or one image,
    in any layout whose image shape matches ``shape``; ``prefer`` decides between layouts
    that both fit (a (1, 28, 28) array is one CHW image or a batch of one HW image).
    """
    device = getattr(x, "device", None) if _is_tensor(x) else None
    array = _as_numpy(x, parameter)
    for kind in (prefer, *KINDS):
        if kind == "hw" and shape[0] != 1:
            continue
        one = Layout(kind).image_shape(shape)
        if tuple(array.shape[1:]) == one:
            single = False
        elif tuple(array.shape) == one:
            single, array = True, array[None]
        else:
            continue
        pixels, layout = _scaled(array, kind, parameter)
        if len(pixels) == 0:
            raise ParameterError(parameter, "array of no images", "must hold at least one image")
        return np.ascontiguousarray(pixels.reshape(len(pixels), *shape)), layout, single, device
    expected = " or ".join(
        str(("N", *Layout(k).image_shape(shape))) for k in KINDS if k != "hw" or shape[0] == 1
    )
    raise ParameterError(
        parameter, f"array of shape {array.shape}", f"this model takes {expected}, or one image"
    )


def from_batch(images: np.ndarray, layout: Layout, single: bool, device) -> np.ndarray:
    """Model output (N, C, H, W) in [0, 1] back in ``layout`` (and on the input's torch device)."""
    shape = Layout(layout.kind).image_shape(tuple(images.shape[1:]))
    out = images.reshape(len(images), *shape)
    if layout.uint8:
        out = as_uint8(out)
    else:
        out = out.astype(layout.float_dtype, copy=False)
    return on_device(out[0] if single else out, device)


def as_uint8(pixels: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] as uint8 0..255, rounded and clipped."""
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)


def codes_to_batch(codes, latent_dim: int, parameter: str = "codes") -> tuple[np.ndarray, bool, object]:
    """Codes (N, latent_dim) or one code (latent_dim,) as float32, finite."""
    device = getattr(codes, "device", None) if _is_tensor(codes) else None
    array = _as_numpy(codes, parameter)
    single = array.ndim == 1
    if single:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != latent_dim or len(array) == 0:
        raise ParameterError(parameter, f"array of shape {array.shape}", f"expected (N, {latent_dim}) codes")
    if not np.issubdtype(array.dtype, np.number):
        raise ParameterError(parameter, f"array of {array.dtype}", "codes must be numbers")
    finite = np.isfinite(array) & (np.abs(array) <= np.finfo(np.float32).max)
    if not finite.all():
        raise ParameterError(
            parameter, "array with NaN, infinite or huge values", "codes must be finite float32"
        )
    return array.astype(np.float32), single, device


def _scaled(array: np.ndarray, kind: str, parameter: str) -> tuple[np.ndarray, Layout]:
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0), Layout(kind, uint8=True)
    if not np.issubdtype(array.dtype, np.floating):
        raise ParameterError(
            parameter, f"array of {array.dtype}", "pixels must be uint8 (0..255) or floats in [0, 1]"
        )
    if not np.isfinite(array).all():
        raise ParameterError(parameter, "array with NaN or infinite values", "pixels must be finite")
    return array.astype(np.float32), Layout(kind, float_dtype=str(array.dtype))


def _is_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _as_numpy(x, parameter: str) -> np.ndarray:
    if _is_tensor(x):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ParameterError(parameter, type(x).__name__, f"is not an array ({exc})") from None
    if array.dtype == object:
        raise ParameterError(parameter, type(x).__name__, "is not a numeric array")
    return array


def on_device(array: np.ndarray, device):
    """``array`` as a torch tensor on ``device``, or as it is when ``device`` is None (NumPy input)."""
    if device is None:
        return array
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
