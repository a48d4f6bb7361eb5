"""Classical baselines to measure the autoencoders against."""

from __future__ import annotations

import numpy as np

from aekit.metrics import mse


def pca_fit(train_images: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean image and the ``components`` main directions (rows) of ``train_images``."""
    train = train_images.reshape(len(train_images), -1).astype(np.float64)
    mean = train.mean(axis=0)
    # The directions are the covariance's top eigenvectors; for a few thousand pixels its
    # eigendecomposition is cheaper and as exact as an SVD of the whole training set.
    covariance = np.cov(train - mean, rowvar=False)
    _, vectors = np.linalg.eigh(covariance)
    return mean, vectors[:, ::-1][:, :components].T


def pca_mse(train_images: np.ndarray, test_images: np.ndarray, components: int) -> float:
    """Test MSE per pixel of PCA with ``components`` directions fitted on the training images."""
    mean, directions = pca_fit(train_images, components)
    test = test_images.reshape(len(test_images), -1).astype(np.float64) - mean
    restored = (test @ directions.T) @ directions + mean
    return mse(test + mean, restored)
