"""Training steps replayed from CUDA graphs train as eager steps do. The GPU tests are skipped
without a CUDA device (CI has none; benchmarks/gpu.py runs them where there is one)."""

import pytest
import torch

from aekit.models import ModelConfig, build_model
from aekit.training.config import TrainConfig
from aekit.training.loop import fit
from aekit.training.losses import draws_random_numbers

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_only_steps_that_draw_no_random_numbers_can_be_replayed():
    plain = build_model(ModelConfig("dense", latent_dim=2, hidden=8))
    vae = build_model(ModelConfig("vae", latent_dim=2, hidden=4))
    assert not draws_random_numbers(plain, noise=0.0, quantize=False)
    assert draws_random_numbers(plain, noise=0.1, quantize=False)
    assert draws_random_numbers(plain, noise=0.0, quantize=True)
    assert draws_random_numbers(vae, noise=0.0, quantize=False)


@needs_cuda
@pytest.mark.parametrize(
    "family, hidden, precision, schedule",
    [
        ("dense", 32, "float32", "constant"),
        ("deep", 64, "bfloat16", "cosine"),
        ("conv", 8, "bfloat16", "cosine"),
    ],
)
def test_a_graphed_training_ends_where_eager_steps_end(
    toy_images, monkeypatch, family, hidden, precision, schedule
):
    """60 images in batches of 16: three recorded-shape batches and a last one of 12 (eager)
    per epoch. A schedule that failed to reach the recorded step would end elsewhere."""
    replays = []
    replay = torch.cuda.CUDAGraph.replay
    monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", lambda graph: (replays.append(1), replay(graph))[1])
    config = TrainConfig(
        epochs=4, batch_size=16, lr=0.002, device="cuda", precision=precision, schedule=schedule
    )
    models, histories = [], []
    for graphs in (False, True):
        model = build_model(ModelConfig(family, latent_dim=2, hidden=hidden), seed=0)
        result = fit(model, toy_images[:60], toy_images[:16], config, progress=False, cuda_graphs=graphs)
        models.append(model.cpu())
        histories.append([record.loss for record in result.history])
    assert len(replays) == 4 * 3 - 3  # every full batch after the three eager ones
    for eager, graphed in zip(models[0].state_dict().values(), models[1].state_dict().values(), strict=True):
        torch.testing.assert_close(graphed, eager, rtol=1e-3, atol=1e-4)
    assert histories[1] == pytest.approx(histories[0], rel=1e-3)
