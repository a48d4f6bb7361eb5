"""Every Python block of the README runs as written (on MNIST subsets, except the slow test)."""

import re
from pathlib import Path

import pytest

import aekit

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def run_block(source: str) -> dict:
    namespace: dict = {"__name__": "readme"}
    exec(compile(source, str(README), "exec"), namespace)
    return namespace


def test_the_readme_has_the_tutorial_block_first():
    assert len(BLOCKS) >= 3 and 'aekit.Autoencoder("dense", latent_dim=2)' in BLOCKS[0]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch, require_mnist):
    pytest.importorskip("sklearn")
    if "import onnxruntime" in BLOCKS[index]:
        pytest.skip("needs an exported model: tests/models/test_onnx.py runs it")
    full = aekit.load_mnist

    def subset():
        (x_train, y_train), (x_test, y_test) = full()
        return (x_train[:2000], y_train[:2000]), (x_test[:500], y_test[:500])

    monkeypatch.setattr(aekit, "load_mnist", subset, raising=False)
    monkeypatch.chdir(tmp_path)
    namespace = run_block(BLOCKS[index])
    if index == 0:
        assert namespace["codes"].shape == (500, 2) and namespace["images"].shape == (500, 28, 28)
        assert namespace["errors"].shape == (500,)
        assert (tmp_path / "runs" / "tutorial" / "model.safetensors").is_file()


@pytest.mark.slow
def test_the_readme_tutorial_block_reproduces_the_tutorial(tmp_path, monkeypatch, require_mnist, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = run_block(BLOCKS[0])
    history = namespace["ae"].history_
    assert history["epoch"] == list(range(1, 21))
    assert history["val_loss"][-1] <= 0.048
    with capsys.disabled():
        print(f"\nREADME tutorial block: val MSE {history['val_loss'][-1]:.5f}")
