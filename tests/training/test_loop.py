import math

import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.models import ModelConfig, build_model
from aekit.training.config import TrainConfig
from aekit.training.loop import fit, lr_factor, mean_squared_error


def small_config(**overrides):
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 0.002, "seed": 0, **overrides})


def train_once(images, **overrides):
    model = build_model(ModelConfig(hidden=32), seed=0)
    result = fit(model, images, images[:16], small_config(**overrides), progress=False)
    return model, result


def test_history_has_one_record_per_epoch_and_loss_falls(toy_images):
    model, result = train_once(toy_images, epochs=5)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4, 5]
    assert result.history[-1].loss < result.history[0].loss
    assert result.val_mse == pytest.approx(mean_squared_error(model, torch.as_tensor(toy_images[:16])))
    assert result.stopped is None and result.train_seconds > 0


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_warm_up_climbs_linearly_then_hands_over_to_the_schedule(schedule):
    factors = [lr_factor(step, 100, 0.1, schedule) for step in range(100)]
    assert factors[:10] == pytest.approx([(step + 1) / 10 for step in range(10)])
    if schedule == "constant":
        assert factors[10:] == [1.0] * 90
    else:
        assert factors[10] == 1.0 and factors[-1] < 0.001
        assert all(later <= earlier for earlier, later in zip(factors[10:], factors[11:], strict=False))


def test_a_warm_up_changes_training_and_still_learns(toy_images):
    _, plain = train_once(toy_images, epochs=5, schedule="cosine")
    _, warmed = train_once(toy_images, epochs=5, schedule="cosine", lr_warmup=0.2)
    assert warmed.history[-1].loss != plain.history[-1].loss
    assert warmed.history[-1].loss < warmed.history[0].loss


def test_adam_beta2_reaches_the_optimizer(toy_images):
    _, usual = train_once(toy_images, epochs=3)
    _, quicker = train_once(toy_images, epochs=3, adam_beta2=0.99)
    assert quicker.history[-1].loss != usual.history[-1].loss
    assert quicker.history[-1].loss < quicker.history[0].loss


def test_same_seed_gives_identical_weights(toy_images):
    a, _ = train_once(toy_images)
    b, _ = train_once(toy_images)
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_another_seed_shuffles_differently(toy_images):
    a, _ = train_once(toy_images, seed=0)
    b, _ = train_once(toy_images, seed=1)
    assert not torch.equal(a.encoder.dense_1.weight, b.encoder.dense_1.weight)


def test_fused_adam_matches_the_plain_optimizer_step(toy_images):
    """The fast fused path must give the same weights as a straightforward loop."""
    model, _ = train_once(toy_images, epochs=2)
    reference = build_model(ModelConfig(hidden=32), seed=0)
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.002, eps=1e-7, foreach=False)
    shuffler = torch.Generator().manual_seed(0)
    data = torch.as_tensor(toy_images)
    for _ in range(2):
        order = torch.randperm(len(data), generator=shuffler)
        for start in range(0, len(data), 16):
            batch = data[order[start : start + 16]]
            loss = torch.nn.functional.mse_loss(reference(batch), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for x, y in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)


def test_bfloat16_precision_keeps_float32_weights_and_lands_near_float32(toy_images):
    exact, exact_result = train_once(toy_images, epochs=5)
    mixed, mixed_result = train_once(toy_images, epochs=5, precision="bfloat16")
    assert all(tensor.dtype == torch.float32 for tensor in mixed.state_dict().values())
    # Different weights show the products really ran in bfloat16.
    assert not torch.equal(exact.encoder.dense_1.weight, mixed.encoder.dense_1.weight)
    assert mixed_result.val_mse == pytest.approx(exact_result.val_mse, rel=0.05)


def test_diverging_loss_stops_and_keeps_last_good_weights(toy_images):
    model = build_model(ModelConfig(hidden=32), seed=0)
    poisoned = toy_images.copy()
    seen = []
    fit(model, poisoned, poisoned[:16], small_config(epochs=1), progress=False)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    poisoned[5, 0, 0, 0] = np.inf  # every epoch now meets an infinite loss
    result = fit(model, poisoned, poisoned[:16], small_config(epochs=2), progress=False, on_epoch=seen.append)
    assert result.stopped is not None and "epoch 1" in result.stopped
    assert result.history == [] and seen == []
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, good[name])
        assert torch.all(torch.isfinite(tensor))


@pytest.mark.parametrize(
    "field, value",
    [("epochs", 0), ("batch_size", 0), ("lr", -1.0), ("lr", math.nan), ("precision", "float8")],
)
def test_bad_settings_are_refused(toy_images, field, value):
    with pytest.raises(AekitError, match=f"{field}="):
        train_once(toy_images, **{field: value})


@pytest.mark.parametrize("family", ["deep", "conv", "vae"])
def test_every_family_learns_on_a_toy_set(toy_images, family):
    model = build_model(
        ModelConfig(family=family, latent_dim=4, hidden=16 if family == "deep" else 4), seed=0
    )
    config = small_config(epochs=15, lr=0.005, noise=0.1, schedule="cosine", kl_weight=0.1)
    before = mean_squared_error(model, torch.as_tensor(toy_images))
    result = fit(model, toy_images, toy_images, config, progress=False)
    assert result.val_mse < 0.8 * before


def test_rate_weight_shrinks_the_codes(toy_images):
    """With --quantize, a rate weight pulls the codes' spread in against the rounding step."""
    spreads = []
    for weight in (0.0, 2.0):
        model, _ = train_once(toy_images, epochs=10, quantize=True, rate_weight=weight)
        with torch.no_grad():
            spreads.append(model.encode(torch.as_tensor(toy_images)).std().item())
    assert spreads[1] < 0.5 * spreads[0]


def test_rate_weight_needs_quantize(toy_images):
    with pytest.raises(AekitError, match="quantize=True"):
        train_once(toy_images, rate_weight=0.1)


def test_augmentation_enlarges_a_window_of_each_image_to_full_size():
    from aekit.training.loop import _zoomed

    images = torch.zeros(2, 3, 8, 8)
    images[:, :, 4:, 4:] = 1.0  # a bright lower-right quarter
    zoomed = _zoomed(images, 4, 4, 4, 4)
    assert zoomed.shape == images.shape and torch.equal(zoomed, torch.ones_like(images))
    assert torch.equal(_zoomed(images, 0, 0, 8, 8), images)
    corner = _zoomed(images, 0, 0, 6, 6)  # the bright quarter grows from 2x2 to about 3x3 of 8
    assert 0.1 < corner.mean() < 0.2
