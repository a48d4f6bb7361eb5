"""The hybrid family starts as PCA and trains a convolutional correction on top."""

import math

import numpy as np
import pytest
import torch

from aekit.baselines import pca_mse
from aekit.inference import reconstruct
from aekit.metrics import mse
from aekit.models import ModelConfig, build_model
from aekit.training.config import TrainConfig
from aekit.training.loop import fit


@pytest.fixture
def photos_like() -> np.ndarray:
    """200 smooth random 3x12x12 images: low-frequency colour fields, as crops of photos are."""
    rng = np.random.default_rng(0)
    coarse = rng.uniform(0, 1, (200, 3, 3, 3)).astype(np.float32)
    return torch.nn.functional.interpolate(torch.tensor(coarse), size=(12, 12), mode="bilinear").numpy()


def test_before_training_it_is_exactly_pca(photos_like):
    train, val = photos_like[:160], photos_like[160:]
    model = build_model(ModelConfig("hybrid", (3, 12, 12), latent_dim=6, hidden=4), seed=0)
    model.prepare(train)
    # PCA's own error, or a hair below it where clipping to [0, 1] helps.
    pca = pca_mse(train, val, 6)
    assert 0.99 * pca < mse(val, reconstruct(model, val)) <= pca * (1 + 1e-4)


def test_training_improves_on_pca_where_it_started(photos_like):
    train, val = photos_like[:160], photos_like[160:]
    model = build_model(ModelConfig("hybrid", (3, 12, 12), latent_dim=4, hidden=4), seed=0)
    config = TrainConfig.for_family("hybrid", n_train=len(train), epochs=15, batch_size=16, augment=False)
    result = fit(model, train, val, config, progress=False)
    assert result.stopped is None
    assert mse(train, reconstruct(model, train)) < pca_mse(train, train, 4)
    np.testing.assert_allclose(  # no shift in colour or brightness
        reconstruct(model, train).mean(axis=(0, 2, 3)), train.mean(axis=(0, 2, 3)), atol=0.01
    )


def test_a_step_recipe_turns_into_epochs_for_the_data_at_hand():
    # 8,000 steps of 32 images: 68 steps an epoch over 2,160 images, 1,875 over MNIST's 60,000.
    assert TrainConfig.for_family("hybrid", n_train=2160).epochs == math.ceil(8000 / 68)
    assert TrainConfig.for_family("hybrid", n_train=60000).epochs == 5
    assert TrainConfig.for_family("hybrid", n_train=2160, batch_size=64).epochs == math.ceil(8000 / 34)
    assert TrainConfig.for_family("hybrid", n_train=2160, epochs=3).epochs == 3  # the user's choice wins
    assert TrainConfig.for_family("deep", n_train=100).epochs == 60  # epoch recipes stay as they are
    # vae's steps are 16 epochs of MNIST, and as many steps on a small folder
    assert TrainConfig.for_family("vae").epochs == 16
    assert TrainConfig.for_family("vae", n_train=2160).epochs == math.ceil(7504 / 17)
    # conv's steps are 8 epochs of MNIST, and as many steps on a small folder
    assert TrainConfig.for_family("conv").epochs == 8
    assert TrainConfig.for_family("conv", n_train=2160).epochs == math.ceil(3752 / 17)


def test_augmentation_changes_training_and_stays_repeatable(photos_like):
    def train(augment: bool) -> dict:
        model = build_model(ModelConfig("conv", (3, 12, 12), latent_dim=4, hidden=4), seed=0)
        config = TrainConfig(epochs=2, batch_size=32, augment=augment)
        fit(model, photos_like[:96], None, config, progress=False)
        return model.state_dict()

    plain, turned, again = train(False), train(True), train(True)
    assert any(not torch.equal(plain[name], turned[name]) for name in plain)
    assert all(torch.equal(turned[name], again[name]) for name in turned)
