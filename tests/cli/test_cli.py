"""Every command, called in-process as a user would type it, including bad input."""

import json
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from aekit.cli.main import main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_failure(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A dense run trained for one epoch on 300 MNIST images (fast, but a real run)."""
    import os

    if not os.environ.get("AEKIT_DATA_DIR"):
        pytest.skip("needs AEKIT_DATA_DIR pointing at MNIST")
    folder = tmp_path_factory.mktemp("run")
    assert (
        main(
            [
                "train",
                "--epochs",
                "1",
                "--limit",
                "300",
                "--hidden",
                "32",
                "--out",
                str(folder),
                "--force",
            ]
        )
        == 0
    )
    return folder


def test_train_writes_the_whole_run(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "metrics.json",
        "reconstructions.png",
        "latent.png",
        "loss.png",
    } <= names
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["n_train"] == 300 and metrics["n_val"] == 10000
    assert {"loss", "val_loss"} <= set(metrics["history"][0]) and metrics["train_seconds"] > 0
    assert metrics["val_mse"] == metrics["history"][-1]["val_loss"]
    assert Image.open(trained_run / "latent.png").size[0] > 300


def test_train_prints_summaries_and_epoch_lines(tmp_path, capsys, require_mnist):
    code, out, _ = run_cli(capsys, "train", "--epochs", "2", "--limit", "200", "--out", tmp_path / "r")
    assert code == 0
    assert "Total params: 472,986" in out
    assert "epoch   1/2" in out and "epoch   2/2" in out


def test_train_records_an_opt_in_precision(tmp_path, capsys, require_mnist):
    argv = ["train", "--precision", "bfloat16", "--epochs", "1", "--limit", "200", "--hidden", "32"]
    code, _, err = run_cli(capsys, *argv, "--out", tmp_path / "r")
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["training"]["precision"] == "bfloat16"
    code, _, err = run_cli(capsys, "train", "--precision", "float16", "--out", tmp_path / "s")
    assert_clean_failure(code, err, "--precision")


def test_train_never_reuses_a_folder_without_force(trained_run, capsys):
    before = (trained_run / "model.safetensors").read_bytes()
    code, _, err = run_cli(capsys, "train", "--epochs", "1", "--limit", "100", "--out", trained_run)
    assert_clean_failure(code, err, str(trained_run), "--force")
    assert (trained_run / "model.safetensors").read_bytes() == before


def test_train_force_removes_the_earlier_runs_files_and_only_those(trained_run, tmp_path, capsys):
    folder = tmp_path / "again"
    shutil.copytree(trained_run, folder)
    (folder / "report.html").write_text("the old model's report")
    (folder / "entropy").mkdir()
    (folder / "entropy" / "0123.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")
    old_weights = (folder / "model.safetensors").read_bytes()
    code, _, err = run_cli(
        capsys, "train", "--epochs", "1", "--limit", "100", "--hidden", "8", "--out", folder, "--force"
    )
    assert code == 0, err
    assert not (folder / "report.html").exists() and not (folder / "entropy").exists()
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "model.safetensors").read_bytes() != old_weights
    assert json.loads((folder / "config.json").read_text())["model"]["hidden"] == 8


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--lr", "abc"], "--lr"),
        (["train", "--model", "nope"], "--model"),
        (["train", "--val-fraction", "0.5"], "val_fraction"),
        (["train", "--seed", "-1"], "--seed -1"),
        (["train", "--lr", "nan"], "--lr nan"),
        (["train", "--lr-warmup", "1.5"], "--lr-warmup 1.5: must be less than 1"),
        (["train", "--adam-beta2", "1.5"], "--adam-beta2 1.5: must be less than 1, e.g. 0.99 or 0.999"),
        (["eval"], "run"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_options_are_one_line_with_exit_2(capsys, argv, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv)
    assert_clean_failure(code, err, fragment, "--help")
    assert not (tmp_path / "runs").exists()


def test_summary_of_default_and_of_a_run(trained_run, capsys):
    code, out, _ = run_cli(capsys, "summary")
    assert code == 0 and "Total params: 236,102" in out and "Total params: 472,986" in out
    code, out, _ = run_cli(capsys, "summary", trained_run)
    assert code == 0 and "(None, 32)" in out


def test_eval_prints_json(trained_run, capsys):
    code, out, _ = run_cli(capsys, "eval", trained_run)
    result = json.loads(out)
    assert code == 0 and result["n"] == 10000
    assert result["mse"] == pytest.approx(
        json.loads((trained_run / "metrics.json").read_text())["val_mse"], rel=1e-4
    )
    assert result["psnr"] == pytest.approx(10 * np.log10(1 / result["mse"]))


def test_encode_decode_round_trip_through_files(trained_run, tmp_path, capsys):
    code, _, _ = run_cli(capsys, "encode", trained_run, "mnist:test", "-o", tmp_path / "codes.npy")
    codes = np.load(tmp_path / "codes.npy")
    assert code == 0 and codes.shape == (10000, 2)
    np.save(tmp_path / "few.npy", codes[:3])
    assert run_cli(capsys, "decode", trained_run, tmp_path / "few.npy", "-o", tmp_path / "pngs")[0] == 0
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == [
        "00000.png",
        "00001.png",
        "00002.png",
    ]
    # The PNGs encode back to nearly the same codes (only 8-bit rounding in between).
    assert run_cli(capsys, "encode", trained_run, tmp_path / "pngs", "-o", tmp_path / "again.npy")[0] == 0
    assert run_cli(capsys, "decode", trained_run, tmp_path / "few.npy", "-o", tmp_path / "img.npy")[0] == 0
    assert np.load(tmp_path / "img.npy").shape == (3, 28, 28)
    # A made-up grid of codes decodes too.
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-2, 2, 4)), -1).reshape(-1, 2)
    np.save(tmp_path / "grid.npy", grid)
    assert (
        run_cli(capsys, "decode", trained_run, tmp_path / "grid.npy", "-o", tmp_path / "grid_out.npy")[0] == 0
    )


def test_bad_inputs_fail_cleanly_and_write_nothing(trained_run, tmp_path, capsys):
    out = tmp_path / "out.npy"
    (tmp_path / "corrupt.npy").write_bytes(b"not numpy")
    Image.new("L", (32, 32)).save(tmp_path / "big.png")
    np.save(tmp_path / "codes3.npy", np.zeros((2, 3), np.float32))
    cases = [
        (("encode", trained_run, tmp_path / "missing.npy", "-o", out), "missing.npy"),
        (("encode", trained_run, tmp_path / "corrupt.npy", "-o", out), "corrupt.npy"),
        (("encode", trained_run, "mnist:valid", "-o", out), "valid"),
        (("decode", trained_run, tmp_path / "codes3.npy", "-o", out), "codes3.npy"),
        (("eval", tmp_path), "config.json"),
        (("summary", tmp_path / "nowhere"), "nowhere"),
    ]
    for argv, fragment in cases:
        code, _, err = run_cli(capsys, *argv)
        assert_clean_failure(code, err, fragment)
        assert not out.exists()


def test_images_of_another_size_are_scaled_and_cropped(trained_run, tmp_path, capsys):
    Image.new("RGB", (32, 40), (200, 200, 200)).save(tmp_path / "big.png")
    code, _, _ = run_cli(capsys, "encode", trained_run, tmp_path / "big.png", "-o", tmp_path / "c.npy")
    assert code == 0 and np.load(tmp_path / "c.npy").shape == (1, 2)


def test_outputs_are_not_overwritten_without_force(trained_run, tmp_path, capsys):
    target = tmp_path / "codes.npy"
    target.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "encode", trained_run, "mnist:test", "-o", target)
    assert_clean_failure(code, err, "--force")
    assert target.read_bytes() == b"precious"
    assert run_cli(capsys, "encode", trained_run, "mnist:test", "-o", target, "--force")[0] == 0


def test_module_entry_point_and_help(capsys):
    result = subprocess.run(
        [sys.executable, "-m", "aekit", "eval", "/nonexistent"], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for command in ["train", "summary", "eval", "encode", "decode"]:
        code, out, _ = run_cli(capsys, command, "--help")
        assert code == 0 and "usage: aekit " + command in out
    # Defaults are read from the recipes, every family's (argparse rewraps the lines).
    _, out, _ = run_cli(capsys, "train", "--help")
    words = " ".join(out.split())
    assert "deep: 60, dense: 20" in words and "conv: as many as make 3,752 steps (8 on MNIST)" in words
    assert "rate (default: 0.006 for conv, 0.0005 for dense and hybrid, 0.002 for the others)" in words
    assert "(default: on for codec, off for the others)" in words  # --quantize


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, trained_run):  # trained_run: skips without MNIST
    folder = tmp_path_factory.mktemp("vae")
    argv = [
        "train",
        "--model",
        "vae",
        "--latent-dim",
        "3",
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--limit",
        "300",
    ]
    assert main([*argv, "--out", str(folder), "--force"]) == 0
    return folder


def test_sample_manifold_interpolate_write_pictures(vae_run, tmp_path, capsys):
    for argv, name in [
        (["sample", vae_run, "-n", "9"], "samples.png"),
        (["manifold", vae_run, "-n", "5"], "grid.png"),
        (["interpolate", vae_run, "--pair", "3,7", "--steps", "4"], "interp.png"),
    ]:
        code, _, err = run_cli(capsys, *argv, "-o", tmp_path / name)
        assert code == 0, err
        assert Image.open(tmp_path / name).size[0] > 100


def test_exploration_refuses_bad_requests(vae_run, trained_run, tmp_path, capsys):
    out = tmp_path / "x.png"
    cases = [
        (("sample", trained_run, "-o", out), "--model vae"),
        (("interpolate", vae_run, "--pair", "3", "-o", out), "--pair"),
        (("interpolate", vae_run, "--pair", "3,10000", "-o", out), "10000"),
        (("manifold", vae_run, "-n", "1", "-o", out), "-n"),
    ]
    for argv, fragment in cases:
        code, _, err = run_cli(capsys, *argv)
        assert_clean_failure(code, err, fragment)
        assert not out.exists()


def test_sweep_writes_a_table_and_plot_with_pca(tmp_path, capsys, require_mnist):
    argv = [
        "sweep",
        "--model",
        "deep",
        "--hidden",
        "16",
        "--latent-dims",
        "2,4",
        "--epochs",
        "1",
        "--limit",
        "300",
    ]
    code, out, err = run_cli(capsys, *argv, "--out", tmp_path / "sw")
    assert code == 0, err
    rows = json.loads((tmp_path / "sw" / "sweep.json").read_text())["results"]
    assert [r["latent_dim"] for r in rows] == [2, 4]
    assert rows[1]["pca_mse"] < rows[0]["pca_mse"] < 0.06  # PCA on MNIST: 2 components about 0.056
    assert (tmp_path / "sw" / "sweep.csv").read_text().startswith("latent_dim,mse,pca_mse,train_seconds")
    assert (tmp_path / "sw" / "sweep.png").is_file() and (
        tmp_path / "sw" / "d4" / "model.safetensors"
    ).is_file()
    assert "latent   4" in out


@pytest.fixture(scope="module")
def quantized_run(tmp_path_factory, trained_run):  # trained_run: skips without MNIST
    """A run trained for compression, placed under runs/ as 'aekit train' would."""
    root = tmp_path_factory.mktemp("work")
    folder = root / "runs" / "q"
    argv = ["train", "--quantize", "--rate-weight", "0.05", "--latent-dim", "4", "--hidden", "32"]
    assert main([*argv, "--epochs", "1", "--limit", "300", "--out", str(folder)]) == 0
    return root, folder


def test_compress_decompress_through_files(quantized_run, tmp_path, capsys, monkeypatch):
    root, folder = quantized_run
    monkeypatch.chdir(root)  # decompress finds the run under ./runs by the file's fingerprint
    code, out, _ = run_cli(capsys, "compress", folder, "mnist:test", "-o", tmp_path / "t.aez")
    assert code == 0 and "per image" in out
    assert len(list((folder / "entropy").glob("*.json"))) == 1
    code, _, err = run_cli(capsys, "decompress", tmp_path / "t.aez", "-o", tmp_path / "found.npy")
    assert code == 0 and err == ""  # a version-3 file: no warning
    assert (
        run_cli(capsys, "decompress", tmp_path / "t.aez", "--run", folder, "-o", tmp_path / "given.npy")[0]
        == 0
    )
    found, given = np.load(tmp_path / "found.npy"), np.load(tmp_path / "given.npy")
    assert found.shape == (10000, 28, 28)
    np.testing.assert_array_equal(found, given)
    # compress reported the PSNR that decompress gives.
    from aekit.data.idx import load_dataset
    from aekit.metrics import mse, psnr

    reported = float(out.split(" per image, ")[1].split(" dB")[0])
    assert abs(reported - psnr(mse(load_dataset("test").images[:, 0], found))) < 0.01
    # A coarser step makes a smaller file (and fits its own probability tables).
    assert run_cli(capsys, "compress", folder, "mnist:test", "--step", "4", "-o", tmp_path / "s4.aez")[0] == 0
    assert (tmp_path / "s4.aez").stat().st_size < (tmp_path / "t.aez").stat().st_size
    assert len(list((folder / "entropy").glob("*.json"))) == 2


@pytest.fixture(scope="module")
def codec_run(tmp_path_factory, trained_run):  # trained_run: skips without MNIST
    """A small run of the codec family and 300 test digits as a .npy file."""
    from aekit.data.idx import load_dataset

    root = tmp_path_factory.mktemp("codec")
    argv = ["train", "--model", "codec", "--latent-dim", "8", "--hidden", "8", "--epochs", "1"]
    assert main([*argv, "--limit", "2000", "--out", str(root / "c")]) == 0
    np.save(root / "digits.npy", load_dataset("test").images[:300, 0])
    return root / "c", root / "digits.npy"


def test_codec_qualities_grow_in_size_and_psnr_up_to_lossless(codec_run, tmp_path, capsys):
    folder, digits = codec_run
    sizes, qualities = [], []
    for quality in (1, 3, 6, 12):
        output = tmp_path / f"q{quality}.aez"
        code, out, _ = run_cli(capsys, "compress", folder, digits, "--quality", str(quality), "-o", output)
        assert code == 0, out
        sizes.append(output.stat().st_size)
        qualities.append(float(out.split(" per image, ")[1].split(" dB")[0]))
    assert sizes == sorted(sizes) and qualities == sorted(qualities) and qualities[-1] == float("inf")
    assert (
        run_cli(capsys, "decompress", tmp_path / "q12.aez", "--run", folder, "-o", tmp_path / "q.npy")[0] == 0
    )
    original = np.rint(np.load(digits) * 255)
    np.testing.assert_array_equal(np.rint(np.load(tmp_path / "q.npy") * 255), original)  # lossless
    code, _, err = run_cli(capsys, "compress", folder, digits, "--quality", "13", "-o", tmp_path / "x.aez")
    assert_clean_failure(code, err, "--quality 13", "1 to 12")


def test_quality_needs_a_codec_run(quantized_run, tmp_path, capsys):
    _, folder = quantized_run
    code, _, err = run_cli(
        capsys, "compress", folder, "mnist:test", "--quality", "3", "-o", tmp_path / "x.aez"
    )
    assert_clean_failure(code, err, "--quality 3", "codec family")
    assert not (tmp_path / "x.aez").exists()


def test_rd_measures_every_quality_and_the_classic_codecs_both_ways(codec_run, capsys):
    import json

    folder, digits = codec_run
    code, out, _ = run_cli(capsys, "rd", folder, "--input", str(digits), "--per-image", "40")
    assert code == 0
    rows = json.loads((folder / "rd.json").read_text())
    assert (folder / "rd.csv").is_file() and (folder / "rd.png").stat().st_size > 10_000
    settings = {(r["codec"], r["layout"]) for r in rows}
    for codec in ("PNG", "JPEG", "WebP", "AVIF"):
        assert {(codec, "one mosaic"), (codec, "file per image")} <= settings
    ours = [r for r in rows if r["codec"] == "aekit codec-8"]
    assert [r["setting"] for r in ours] == [f"quality {q}" for q in range(1, 13)]
    assert all(abs(r["predicted_bytes_per_image"] - r["bytes_per_image"]) < 1 for r in ours)
    assert any(r["codec"].startswith("PCA") for r in rows) and "| AVIF | quality 30 | one mosaic |" in out
    code, _, err = run_cli(capsys, "rd", folder, "--input", str(digits))
    assert_clean_failure(code, err, "rd.csv", "--force")


def test_compressing_with_a_run_not_trained_for_it_warns(trained_run, tmp_path, capsys):
    code, out, err = run_cli(capsys, "compress", trained_run, "mnist:test", "-o", tmp_path / "t.aez")
    assert code == 0 and "dB PSNR" in out
    assert (
        err.strip().startswith("aekit: warning:")
        and "--quantize" in err
        and len(err.strip().splitlines()) == 1
    )


def test_compress_and_decompress_refuse_bad_input(quantized_run, trained_run, tmp_path, capsys, monkeypatch):
    root, folder = quantized_run
    monkeypatch.chdir(tmp_path)  # no runs/ here
    good = tmp_path / "good.aez"
    assert run_cli(capsys, "compress", folder, "mnist:test", "-o", good)[0] == 0
    damaged = tmp_path / "damaged.aez"
    damaged.write_bytes(good.read_bytes()[:-3])
    out = tmp_path / "out.npy"
    cases = [
        (("compress", folder, "mnist:test", "-o", tmp_path / "x.npy"), "*.aez"),
        (("compress", folder, "mnist:test", "-o", good), "--force"),
        (("decompress", damaged, "--run", folder, "-o", out), "damaged.aez"),
        (("decompress", good, "-o", out), "--run"),
        (("decompress", good, "--run", trained_run, "-o", out), "another model"),
        (("decompress", tmp_path / "none.aez", "-o", out), "none.aez"),
    ]
    for argv, fragment in cases:
        code, _, err = run_cli(capsys, *argv)
        assert_clean_failure(code, err, fragment)
        assert not out.exists()


def test_sigterm_then_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, capsys, require_mnist):
    from safetensors.torch import load_file

    args = ["train", "--limit", "12000", "--epochs", "3", "--hidden", "300"]
    assert main([*args, "--out", str(tmp_path / "straight")]) == 0
    cut = tmp_path / "cut"
    process = subprocess.Popen(
        [sys.executable, "-m", "aekit", *args, "--out", str(cut)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("epoch   1/3"):
            break
    process.send_signal(signal.SIGTERM)  # lands in epoch 2
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert f"aekit train --resume {cut}" in err and "Traceback" not in err
    assert (cut / "checkpoint.safetensors").is_file() and not (cut / "model.safetensors").exists()

    capsys.readouterr()
    code, out, _ = run_cli(capsys, "train", "--resume", cut)
    assert code == 0 and "epoch   2/3" in out and "epoch   3/3" in out and "epoch   1/3" not in out
    straight, resumed = (
        load_file(tmp_path / "straight" / "model.safetensors"),
        load_file(cut / "model.safetensors"),
    )
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name
    history = json.loads((cut / "metrics.json").read_text())["history"]
    assert [r["epoch"] for r in history] == [1, 2, 3]


def test_resume_refuses_options_it_would_ignore(trained_run, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", trained_run, "--seed", "3", "--lr", "0.01")
    assert_clean_failure(code, err, "--lr, --seed")
    assert str(trained_run) in err


def test_resume_refuses_runs_without_a_usable_checkpoint(trained_run, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "nothing")
    assert_clean_failure(code, err, "nothing")
    run = tmp_path / "copy"
    run.mkdir()
    (run / "config.json").write_text((trained_run / "config.json").read_text())
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert_clean_failure(code, err, "no checkpoint")
    (run / "checkpoint.safetensors").write_bytes(b"garbage")
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert_clean_failure(code, err, "damaged")


def test_device_option_on_every_command_that_runs_the_network(trained_run, tmp_path, capsys):
    out = tmp_path / "codes.npy"
    assert run_cli(capsys, "encode", trained_run, "mnist:test", "-o", out, "--device", "auto")[0] == 0
    if not torch.cuda.is_available():
        code, _, err = run_cli(capsys, "eval", trained_run, "--device", "cuda")
        assert_clean_failure(code, err, "no CUDA")


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path, capsys):
    folder = tmp_path / "grow"
    common = ("--limit", "200", "--hidden", "8", "--out")
    assert run_cli(capsys, "train", "--epochs", "1", *common, folder)[0] == 0
    code, out, err = run_cli(capsys, "train", "--resume", folder, "--epochs", "2")
    assert code == 0, err
    assert "epoch   2/2" in out and "epoch   1/2" not in out
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert json.loads((folder / "config.json").read_text())["training"]["epochs"] == 2
    # The same two epochs in one go end with the same weights (constant learning rate).
    straight = tmp_path / "straight"
    assert run_cli(capsys, "train", "--epochs", "2", *common, straight)[0] == 0
    grown, whole = (load_file(str(f / "model.safetensors")) for f in (folder, straight))
    assert grown.keys() == whole.keys()
    for name in whole:
        assert torch.equal(grown[name], whole[name]), name
    code, _, err = run_cli(capsys, "train", "--resume", folder, "--epochs", "1")
    assert_clean_failure(code, err, "--epochs 1")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["train", "--help"],
        ["compress", "--help"],
        ["train", "--epochs", "x"],
        ["train", "--epochs", "0"],
    ],
)
def test_help_version_and_usage_errors_import_nothing_heavy(argv):
    """What makes `aekit --help` answer in well under 0.5 s: torch, matplotlib and scikit-learn
    are not imported before a command runs."""
    probe = (
        "import sys; from aekit.cli.main import main\n"
        f"code = main({argv!r})\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'sklearn', 'numpy', 'PIL') if m in sys.modules]\n"
        "print('HEAVY', heavy, code)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "HEAVY [] " in done.stdout, done.stdout + done.stderr


def test_summary_without_a_run_shows_the_model_train_builds(capsys):
    from aekit.models import ModelConfig, build_model
    from aekit.models.summary import parameter_count

    code, out, _ = run_cli(capsys, "summary", "--model", "conv", "--latent-dim", "32")
    assert code == 0
    expected = parameter_count(build_model(ModelConfig("conv", latent_dim=32)))
    assert f"Total params: {expected:,}" in out


@pytest.mark.parametrize("command", ["sample", "manifold", "interpolate"])
def test_picture_commands_refuse_what_they_cannot_write_before_any_work(
    trained_run, tmp_path, capsys, command
):
    extra = ["--pair", "1,2"] if command == "interpolate" else []
    code, _, err = run_cli(capsys, command, trained_run, *extra, "-o", tmp_path / "grid.txt")
    assert_clean_failure(code, err, "grid.txt")
    existing = tmp_path / "grid.png"
    existing.write_bytes(b"mine")
    code, _, err = run_cli(capsys, command, trained_run, *extra, "-o", existing)
    assert_clean_failure(code, err, "already exists")
    assert existing.read_bytes() == b"mine"


def test_decode_writes_what_encode_reads_back(trained_run, tmp_path, capsys):
    codes = tmp_path / "codes.npy"
    np.save(codes, np.array([[0.0, 0.0], [50.0, -50.0]], np.float32))  # far outside the training codes
    assert run_cli(capsys, "decode", trained_run, codes, "-o", tmp_path / "images.npy")[0] == 0
    images = np.load(tmp_path / "images.npy")
    assert images.shape == (2, 28, 28) and images.min() >= 0 and images.max() <= 1
    code, _, err = run_cli(
        capsys, "encode", trained_run, tmp_path / "images.npy", "-o", tmp_path / "again.npy"
    )
    assert code == 0, err


def test_the_codec_commands_run_on_the_cpu_unless_asked():
    """A GPU's float networks round differently from the CPU's, so a file is exact only where
    compress and decompress compute the same way: both default to the CPU, not to auto."""
    from aekit.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["compress", "run", "in.npy", "-o", "x.aez"]).device == "cpu"
    assert parser.parse_args(["decompress", "x.aez", "-o", "out"]).device == "cpu"
    assert parser.parse_args(["encode", "run", "in.npy", "-o", "codes.npy"]).device == "auto"
