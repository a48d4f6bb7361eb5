import os
from pathlib import Path

import numpy as np
import pytest

from aekit.data.idx import MNIST, load_dataset


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def mnist_available() -> bool:
    folder = os.environ.get("AEKIT_DATA_DIR")
    return bool(folder) and all(
        (Path(folder) / name).exists() or (Path(folder) / f"{name}.gz").exists() for name in MNIST.sha256
    )


@pytest.fixture
def require_mnist(mnist_available):
    if not mnist_available:
        pytest.skip("set AEKIT_DATA_DIR to a folder holding MNIST (CI points it at ../shared/data/mnist)")


@pytest.fixture
def toy_images() -> np.ndarray:
    """64 small deterministic 'digits': bright bars at varying places, shape (64, 1, 28, 28)."""
    rng = np.random.default_rng(0)
    images = np.zeros((64, 1, 28, 28), np.float32)
    for i in range(64):
        row, col = rng.integers(4, 20, size=2)
        images[i, 0, row : row + 6, col : col + 3] = 1.0
    return images


@pytest.fixture
def mnist_subset(require_mnist):
    return load_dataset("train", limit=2000), load_dataset("test", limit=500)
