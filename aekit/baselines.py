"""Classical baselines to measure the autoencoders against."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from aekit.metrics import mse


def pca_mse(train_images: np.ndarray, test_images: np.ndarray, components: int, seed: int = 0) -> float:
    """Test MSE per pixel of PCA with ``components`` directions fitted on the training images."""
    train = train_images.reshape(len(train_images), -1)
    test = test_images.reshape(len(test_images), -1)
    pca = PCA(n_components=components, svd_solver="randomized", random_state=seed).fit(train)
    return mse(test, pca.inverse_transform(pca.transform(test)))
