"""aekit: image autoencoders you can train, inspect and use as codecs.

>>> import aekit
>>> (x_train, y_train), (x_test, y_test) = aekit.load_mnist()
>>> ae = aekit.Autoencoder("dense", latent_dim=2).fit(x_train, validation_data=x_test)

Names are imported on first use, so ``import aekit`` (and ``aekit --help``) stays fast.
"""

from __future__ import annotations

import importlib

from aekit.threads import wait_politely

__version__ = "0.1.0"

# Before torch loads, where it takes effect: see aekit/threads.py (results do not change).
wait_politely()

_EXPORTS = {
    "Autoencoder": "aekit.estimator",
    "load": "aekit.estimator",
    "load_mnist": "aekit.data.idx",
    "load_dataset": "aekit.data.idx",
    "EarlyStopping": "aekit.training.callbacks",
    "CSVLogger": "aekit.training.callbacks",
    "TensorBoard": "aekit.training.callbacks",
    "Callback": "aekit.training.callbacks",
    "AekitError": "aekit.errors",
    "ParameterError": "aekit.errors",
    "NotFittedError": "aekit.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
