"""The built-in models: found by name, checked against their manifest, measured as it says."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

import aekit
import aekit.builtin as builtin
from aekit.cli.main import main
from aekit.errors import AekitError

pytestmark = pytest.mark.skipif(not builtin.names(), reason="this checkout ships no built-in models")
NAMES = ["tutorial", "mnist-conv32", "mnist-codec", "fashion-conv32"]


def test_the_four_built_ins_ship_within_8_mb_and_match_their_manifest():
    assert builtin.names() == NAMES
    total = 0
    for name in NAMES:
        folder = builtin.builtin_folder(name)  # every file's SHA-256 checked
        total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total == sum(e["bytes"] for e in builtin.manifest().values()) <= 8_000_000


def test_aekit_models_lists_them_with_their_figures(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out and builtin.manifest()[name]["command"] in out
    assert "quality" in out and "lossless" in out


def test_a_name_loads_the_built_in_unless_a_folder_of_that_name_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = aekit.load("tutorial", device="cpu")
    assert shipped.encode(np.zeros((3, 28, 28), np.uint8)).shape == (3, 2)
    # A run of your own named like a built-in wins: a name never shadows a folder.
    mine = aekit.Autoencoder("dense", latent_dim=3, hidden=8, epochs=1)
    mine.fit(np.random.default_rng(0).random((64, 28, 28), dtype=np.float32))
    mine.save(tmp_path / "tutorial")
    assert aekit.load("tutorial", device="cpu").encode(np.zeros((3, 28, 28), np.uint8)).shape == (3, 3)


def test_an_unknown_name_lists_the_known_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["encode", "mnist-conv64", "x.npy", "-o", "c.npy"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(name in err for name in NAMES)


def test_a_tampered_built_in_is_refused(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "builtin"
    shutil.copytree(builtin.ROOT, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    weights = copy / "tutorial" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(builtin, "ROOT", copy)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AekitError, match="SHA-256 does not match"):
        aekit.load("tutorial")
    assert main(["summary", "tutorial"]) == 2
    assert "reinstall aekit" in capsys.readouterr().err


def test_the_manifests_figures_hold_on_a_subset(require_mnist):
    from aekit.inference import reconstruct
    from aekit.metrics import mse
    from aekit.runs import load_run

    test = aekit.load_dataset("test", limit=1000).images
    for name in ("tutorial", "mnist-conv32"):
        run = load_run(name)
        measured = mse(test, np.clip(reconstruct(run.model, test), 0, 1))
        assert measured == pytest.approx(builtin.manifest()[name]["subset"]["mse"], rel=1e-3), name


def test_the_codec_compresses_and_decompresses_as_its_manifest_says(require_mnist, tmp_path, monkeypatch):
    from aekit.codec.aez import compress_file, decompress_file

    monkeypatch.chdir(tmp_path)  # no runs/ here: the file's run is found among the built-ins
    images = aekit.load_dataset("test", limit=1000).images
    np.save(tmp_path / "digits.npy", images)
    expected = builtin.manifest()["mnist-codec"]["subset"]["qualities"]
    for quality in (3, 6, 12):
        done = compress_file(
            "mnist-codec", tmp_path / "digits.npy", tmp_path / f"q{quality}.aez", quality=quality
        )
        figures = expected[str(quality)]
        assert done.size / done.images == pytest.approx(figures["bytes_per_image"], rel=0.02)
        restored = decompress_file(tmp_path / f"q{quality}.aez")
        if figures["psnr"] is None:
            np.testing.assert_array_equal(np.rint(restored * 255), np.rint(images * 255))
        else:
            assert done.psnr == pytest.approx(figures["psnr"], abs=0.05)
    with pytest.raises(AekitError, match="built-in model mnist-codec has no tables"):
        compress_file("mnist-codec", tmp_path / "digits.npy", tmp_path / "s.aez", step=0.5)
    assert not list(Path(builtin.ROOT / "mnist-codec").glob("*.tmp"))
    digest = hashlib.sha256((builtin.ROOT / "mnist-codec" / "model.safetensors").read_bytes()).hexdigest()
    assert digest == builtin.manifest()["mnist-codec"]["files"]["model.safetensors"]
