import json

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import ModelConfig, build_model
from aekit.runs import Run, load_run, prepare_run_dir, save_run
from aekit.training.config import TrainConfig


@pytest.fixture
def saved(tmp_path):
    model = build_model(ModelConfig(latent_dim=4, hidden=20), seed=3)
    run = Run(model=model, training=TrainConfig(epochs=7), metrics={"val_mse": 0.5})
    save_run(run, tmp_path)
    return run, tmp_path


def test_save_then_load_rebuilds_the_same_model(saved):
    run, folder = saved
    loaded = load_run(folder)
    assert loaded.model.config == run.model.config
    assert loaded.training.epochs == 7 and loaded.metrics == {"val_mse": 0.5}
    for name, tensor in run.model.state_dict().items():
        assert torch.equal(tensor, loaded.model.state_dict()[name])
    assert not list(folder.glob("*.tmp"))  # atomic writes leave no temporaries


def test_weights_that_do_not_fit_the_config_are_refused(saved):
    _, folder = saved
    config = json.loads((folder / "config.json").read_text())
    config["model"]["hidden"] = 21
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(AekitError, match="does not fit the model in config.json"):
        load_run(folder)


@pytest.mark.parametrize(
    "file, content, expected",
    [
        ("config.json", "{not json", "damaged"),
        ("model.safetensors", "garbage", "not a readable safetensors"),
    ],
)
def test_corrupt_run_files_are_clear_errors(saved, file, content, expected):
    _, folder = saved
    (folder / file).write_text(content)
    with pytest.raises(AekitError, match=expected):
        load_run(folder)


def test_missing_folder_or_weights(saved, tmp_path):
    with pytest.raises(AekitError, match="not a run folder"):
        load_run(tmp_path / "nowhere")
    _, folder = saved
    (folder / "model.safetensors").unlink()
    with pytest.raises(AekitError, match="missing"):
        load_run(folder)


def test_run_folders_are_never_reused_without_force(tmp_path):
    first = prepare_run_dir(None, "dense", False, root=tmp_path)
    second = prepare_run_dir(None, "dense", False, root=tmp_path)
    assert first != second and first.is_dir() and second.is_dir()
    (first / "config.json").write_text("{}")
    with pytest.raises(AekitError, match="--force"):
        prepare_run_dir(first, "dense", False)
    assert prepare_run_dir(first, "dense", True) == first
