"""Opt-in reduced precision for the network's passes.

The weights, the optimizer state and every reported error stay float32; only the matrix
products and convolutions inside :func:`autocast` run in bfloat16, which CPUs with bfloat16
instructions (AVX512-BF16, AMX) and recent GPUs compute about twice as fast. Elsewhere
PyTorch emulates bfloat16, which is correct but slower than float32.
"""

from __future__ import annotations

import torch

from aekit.errors import ParameterError

_DTYPES = {"float32": None, "bfloat16": torch.bfloat16}


def autocast(device: torch.device, precision: str, cache_enabled: bool = True) -> torch.autocast:
    """A context in which ``precision`` applies on ``device``; changes nothing for float32.
    ``cache_enabled`` is torch.autocast's (False while recording a CUDA graph)."""
    if precision not in _DTYPES:
        raise ParameterError("precision", precision, f"must be one of {', '.join(_DTYPES)}")
    dtype = _DTYPES[precision]
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None, cache_enabled=cache_enabled)
