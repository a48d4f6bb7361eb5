import dataclasses
import itertools

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import ModelConfig, build_model
from aekit.training.checkpoints import load_checkpoint, save_checkpoint
from aekit.training.config import TrainConfig
from aekit.training.loop import fit

# 64 toy images in batches of 16: 4 batches an epoch.
CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.002, noise=0.1, schedule="cosine")
MODEL = ModelConfig(family="vae", latent_dim=3, hidden=4)  # noise + sampling: both generators matter


def trained(images, **options):
    model = build_model(MODEL, seed=0)
    return model, fit(model, images, images[:16], CONFIG, progress=False, **options)


@pytest.mark.parametrize(
    "stop_after, position",
    [(1, (0, 1)), (6, (1, 2)), (8, (1, 4))],  # mid first epoch, mid second, after an epoch's last batch
)
def test_interrupted_then_resumed_gives_the_same_weights_bit_for_bit(
    toy_images, tmp_path, stop_after, position
):
    straight, straight_result = trained(toy_images)
    saved = []
    batches = itertools.count(1)
    _, result = trained(
        toy_images, on_checkpoint=saved.append, should_stop=lambda: next(batches) == stop_after
    )
    assert result.interrupted and "interrupted" in result.stopped
    save_checkpoint(saved[-1], tmp_path / "checkpoint.safetensors")
    checkpoint = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (checkpoint.epoch, checkpoint.batch) == position
    resumed = build_model(MODEL, seed=99)  # other initial weights: everything must come from the checkpoint
    resumed_result = fit(resumed, toy_images, toy_images[:16], CONFIG, progress=False, resume=checkpoint)
    for name, tensor in straight.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
    assert [r.loss for r in resumed_result.history] == [r.loss for r in straight_result.history]


def test_a_run_with_a_learning_rate_warm_up_resumes_bit_for_bit(toy_images, tmp_path):
    config = dataclasses.replace(CONFIG, lr_warmup=0.5)  # the climb spans the interruption
    straight = build_model(MODEL, seed=0)
    fit(straight, toy_images, None, config, progress=False)
    saved, batches = [], itertools.count(1)
    fit(
        build_model(MODEL, seed=0),
        toy_images,
        None,
        config,
        progress=False,
        on_checkpoint=saved.append,
        should_stop=lambda: next(batches) == 3,
    )
    resumed = build_model(MODEL, seed=99)
    fit(resumed, toy_images, None, config, progress=False, resume=saved[-1])
    for name, tensor in straight.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_a_checkpoint_is_offered_after_every_epoch(toy_images):
    saved = []
    trained(toy_images, on_checkpoint=saved.append)
    assert [(c.epoch, c.batch) for c in saved] == [(1, 0), (2, 0), (3, 0)]
    assert [len(c.history) for c in saved] == [1, 2, 3]


def test_missing_or_damaged_checkpoints_are_clear_errors(toy_images, tmp_path):
    with pytest.raises(AekitError, match="no checkpoint"):
        load_checkpoint(tmp_path / "checkpoint.safetensors")
    saved = []
    trained(toy_images, on_checkpoint=saved.append)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(saved[-1], path)
    data = path.read_bytes()
    flipped = bytearray(data)
    flipped[-10] ^= 0x01  # a bit in the tensor data, which safetensors itself does not check
    for damaged in (data[: len(data) // 2], b"\x00" * 64, bytes(flipped)):
        path.write_bytes(damaged)
        with pytest.raises(AekitError, match="damaged"):
            load_checkpoint(path)


def test_a_checkpoint_from_another_kind_of_device_resumes(toy_images):
    # A GPU's random generator keeps a 16-byte state where the CPU's keeps 5,056 bytes; a run
    # checkpointed on one and resumed on the other restarts that stream rather than failing.
    saved = []
    batches = itertools.count(1)
    trained(toy_images, on_checkpoint=saved.append, should_stop=lambda: next(batches) == 6)
    checkpoint = saved[-1]
    checkpoint.samplers = [torch.zeros(16, dtype=torch.uint8)]
    model = build_model(MODEL, seed=0)
    result = fit(model, toy_images, toy_images[:16], CONFIG, progress=False, resume=checkpoint)
    assert result.stopped is None and len(result.history) == 3
