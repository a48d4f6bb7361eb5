"""Describe a decoder as a list of plain operations plus one float32 buffer of weights,
so the HTML report can run it in the browser (see ``explorer.js``)."""

from __future__ import annotations

import numpy as np
from torch import nn

from aekit.errors import AekitError


def export_decoder(decoder: nn.Module) -> tuple[list[dict], np.ndarray]:
    """(operations, weights): each operation names its kind, sizes and offsets into ``weights``.

    Only a plain chain of layers (an ``nn.Sequential``) can be described this way; any other
    decoder (``hybrid``'s adds two branches) is an :class:`AekitError`."""
    if not isinstance(decoder, nn.Sequential):
        raise AekitError(f"the in-page decoder runs a plain chain of layers, not a {type(decoder).__name__}")
    operations: list[dict] = []
    chunks: list[np.ndarray] = []
    offset = 0

    def add(tensor) -> int:
        nonlocal offset
        array = tensor.detach().cpu().numpy().astype(np.float32).ravel()
        chunks.append(array)
        start, offset = offset, offset + array.size
        return start

    leaves = [m for m in decoder.modules() if not list(m.children())]
    for layer in leaves:
        if isinstance(layer, nn.Linear):
            operations.append(
                {
                    "op": "linear",
                    "in": layer.in_features,
                    "out": layer.out_features,
                    "w": add(layer.weight),
                    "b": add(layer.bias),
                }
            )
        elif isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            operations.append(
                {
                    "op": "conv" if isinstance(layer, nn.Conv2d) else "convT",
                    "cin": layer.in_channels,
                    "cout": layer.out_channels,
                    "k": layer.kernel_size[0],
                    "stride": layer.stride[0],
                    "pad": layer.padding[0],
                    "outpad": list(getattr(layer, "output_padding", (0, 0))),
                    "w": add(layer.weight),
                    "b": add(layer.bias),
                }
            )
        elif isinstance(layer, nn.GroupNorm):
            operations.append(
                {
                    "op": "groupnorm",
                    "groups": layer.num_groups,
                    "eps": layer.eps,
                    "w": add(layer.weight),
                    "b": add(layer.bias),
                }
            )
        elif isinstance(layer, nn.Unflatten):
            operations.append({"op": "reshape", "shape": list(layer.unflattened_size)})
        elif isinstance(layer, nn.LeakyReLU):
            operations.append({"op": "leaky", "slope": layer.negative_slope})
        elif isinstance(layer, nn.ReLU | nn.SiLU | nn.Sigmoid | nn.Flatten):
            operations.append({"op": type(layer).__name__.lower()})
        else:
            raise AekitError(f"the report's in-page decoder cannot run a {type(layer).__name__} layer yet")
    weights = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return operations, weights
