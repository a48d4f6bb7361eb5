"""ONNX export: every family's encoder and decoder run in onnxruntime as they do in PyTorch."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.cli.main import main
from aekit.errors import AekitError
from aekit.models import ModelConfig, build_model
from aekit.models.onnx import export_onnx
from aekit.runs import Run, save_run

onnxruntime = pytest.importorskip("onnxruntime")

FAMILIES = {
    "dense": ModelConfig("dense", latent_dim=2, hidden=64),
    "deep": ModelConfig("deep", latent_dim=4, hidden=64),
    "conv": ModelConfig("conv", latent_dim=8, hidden=8),
    "vae": ModelConfig("vae", latent_dim=4, hidden=8),
    "codec": ModelConfig("codec", latent_dim=8, hidden=8),
    "hybrid": ModelConfig("hybrid", latent_dim=6, hidden=4),
}
README = Path(__file__).resolve().parents[2] / "README.md"


def digit_images(count=256) -> np.ndarray:
    """Digit-like test images: MNIST's test split where it is available, else bright bars."""
    try:
        from aekit.data.idx import load_dataset

        return load_dataset("test", limit=count, download=False).images
    except AekitError:
        images = np.zeros((count, 1, 28, 28), np.float32)
        for index, image in enumerate(images):
            image[0, 4 + index % 16 : 10 + index % 16, 6 + index % 13 : 9 + index % 13] = 1.0
        return images


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_onnxruntime_gives_what_pytorch_gives(family, tmp_path):
    model = build_model(FAMILIES[family], seed=0)
    if family == "hybrid":
        model.prepare(digit_images(512))  # PCA, so that its codes and pictures are not all zero
    folder = export_onnx(model, tmp_path / "onnx")
    images = digit_images()
    encoder = onnxruntime.InferenceSession(str(folder / "encoder.onnx"))
    decoder = onnxruntime.InferenceSession(str(folder / "decoder.onnx"))
    with torch.no_grad():
        codes = model.eval().encoder(torch.from_numpy(images)).numpy()
        pictures = model.decoder(torch.from_numpy(codes)).numpy()
    for batch in (1, 256):
        got_codes = np.concatenate(
            [encoder.run(None, {"images": images[i : i + batch]})[0] for i in range(0, 256, batch)]
        )
        got_pictures = np.concatenate(
            [decoder.run(None, {"codes": codes[i : i + batch]})[0] for i in range(0, 256, batch)]
        )
        assert got_codes.dtype == np.float32 and got_pictures.shape == images.shape
        assert np.abs(got_codes - codes).max() <= 1e-5, family
        assert np.abs(got_pictures - pictures).max() <= 1e-5, family
    described = json.loads((folder / "model.json").read_text())
    assert described["family"] == family and described["latent_dim"] == FAMILIES[family].latent_dim
    assert described["decoder"]["input"] == {
        "name": "codes",
        "shape": ["batch", described["latent_dim"]],
        "dtype": "float32",
    }
    assert [i.name for i in decoder.get_inputs()] == ["codes"] and decoder.get_inputs()[0].shape[0] == "batch"
    metadata = encoder.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["aekit"])["output"]["name"] == "codes"


def test_an_existing_folder_is_refused_before_any_work(tmp_path):
    taken = tmp_path / "onnx"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    with pytest.raises(AekitError, match="already exists.*--force"):
        export_onnx(build_model(FAMILIES["dense"], seed=0), taken)
    assert [p.name for p in tmp_path.iterdir()] == ["onnx"] and (taken / "mine.txt").read_text() == "keep"


def test_without_the_extra_the_error_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(AekitError, match=r"pip install 'aekit\[onnx\]'") as caught:
        export_onnx(build_model(FAMILIES["dense"], seed=0), tmp_path / "onnx")
    assert "\n" not in str(caught.value) and not (tmp_path / "onnx").exists()


def test_the_command_exports_a_run_and_refuses_to_overwrite(tmp_path, capsys):
    save_run(Run(model=build_model(FAMILIES["conv"], seed=0)), tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "-o", str(tmp_path / "onnx")]) == 0
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == [
        "decoder.onnx",
        "encoder.onnx",
        "model.json",
    ]
    capsys.readouterr()
    assert main(["export", str(tmp_path / "run"), "-o", str(tmp_path / "onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err


def test_the_readme_block_decodes_with_onnxruntime_and_numpy_alone(tmp_path):
    """The README's onnxruntime block, run as written next to an exported tutorial model, in a
    process that never imports torch."""
    block = next(
        b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S) if "onnxruntime" in b
    )
    save_run(
        Run(model=build_model(ModelConfig("dense", latent_dim=2), seed=0)), tmp_path / "runs" / "tutorial"
    )
    assert main(["export", str(tmp_path / "runs" / "tutorial"), "-o", str(tmp_path / "onnx")]) == 0
    script = block + '\nimport sys\nassert "torch" not in sys.modules and images.shape == (4, 1, 28, 28)\n'
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=120)
