"""Describe a decoder as a list of plain operations plus one float32 buffer of weights,
so the HTML report can run it in the browser (see ``explorer.js``)."""

from __future__ import annotations

import numpy as np
from torch import nn

from aekit.errors import AekitError
from aekit.models.hybrid import HybridDecoder


def export_decoder(decoder: nn.Module) -> tuple[list[dict], np.ndarray]:
    """(operations, weights): each operation names its kind, sizes and offsets into ``weights``.

    A plain chain of layers (an ``nn.Sequential``) becomes one operation per layer; ``hybrid``'s
    decoder becomes its correction's chain, then "add a linear map of the code" (PCA's part)
    and "clip to [0, 1]". Any other decoder, or a layer the page does not know, is an
    :class:`AekitError`."""
    if isinstance(decoder, HybridDecoder):
        operations, weights = export_decoder(decoder.correction)
        unproject = decoder.unproject
        pca = {
            "op": "codelinear",
            "in": unproject.in_features,
            "out": unproject.out_features,
            "w": weights.size,
            "b": weights.size + unproject.weight.numel(),
        }
        weights = np.concatenate([weights, _floats(unproject.weight), _floats(decoder.mean)])
        return [*operations, pca, {"op": "clip"}], weights
    if not isinstance(decoder, nn.Sequential):
        raise AekitError(f"the in-page decoder runs a plain chain of layers, not a {type(decoder).__name__}")
    operations: list[dict] = []
    chunks: list[np.ndarray] = []
    offset = 0

    def add(tensor) -> int:
        nonlocal offset
        array = _floats(tensor)
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
        elif isinstance(layer, nn.Upsample) and layer.mode == "nearest" and layer.size is not None:
            operations.append({"op": "nearest", "size": list(layer.size)})
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


def _floats(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float32).ravel()
