"""torchrun with two gloo processes on this machine against one process, same global batch."""

import json
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from aekit.cli.main import main
from aekit.errors import AekitError
from aekit.training.checkpoints import load_checkpoint
from aekit.training.distributed import resolve_device

ARGS = [
    "train",
    "--limit",
    "2048",
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--hidden",
    "64",
    "--latent-dim",
    "4",
]


def torchrun(*argv):
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "aekit",
        *argv,
    ]


def test_two_processes_train_the_same_model_as_one(tmp_path, require_mnist):
    assert main([*ARGS, "--out", str(tmp_path / "one")]) == 0
    launched = subprocess.run(
        torchrun(*ARGS, "--out", str(tmp_path / "two")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stderr
    assert launched.stdout.count("val MSE") == 1  # only rank 0 speaks (and writes)
    one, two = (
        load_file(tmp_path / "one" / "model.safetensors"),
        load_file(tmp_path / "two" / "model.safetensors"),
    )
    for name in one:
        # Same global batches; only the order of floating-point sums differs.
        torch.testing.assert_close(one[name], two[name], rtol=1e-3, atol=1e-4)
    mse_one, mse_two = (
        json.loads((tmp_path / r / "metrics.json").read_text())["val_mse"] for r in ("one", "two")
    )
    assert mse_two == pytest.approx(mse_one, rel=1e-3)


def test_device_choice():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(AekitError, match="no CUDA"):
            resolve_device("cuda")


def test_sigterm_and_resume_under_torchrun_match_an_uninterrupted_job(tmp_path, require_mnist):
    """With input noise each process draws from its own generator; all of them are checkpointed."""
    args = [
        "train",
        "--limit",
        "12000",
        "--epochs",
        "3",
        "--batch-size",
        "64",
        "--hidden",
        "64",
        "--noise",
        "0.2",
    ]
    straight = subprocess.run(
        torchrun(*args, "--out", str(tmp_path / "straight")), capture_output=True, text=True
    )
    assert straight.returncode == 0, straight.stderr
    cut = tmp_path / "cut"
    job = subprocess.Popen(
        torchrun(*args, "--out", str(cut)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in job.stdout:
        if line.startswith("epoch   1/3"):
            break
    job.send_signal(signal.SIGTERM)  # torchrun passes it on to both processes
    job.communicate(timeout=300)
    assert (cut / "checkpoint.safetensors").is_file() and not (cut / "model.safetensors").exists()
    checkpoint = load_checkpoint(cut / "checkpoint.safetensors")
    assert checkpoint.epoch < 3 and len(checkpoint.samplers) == 2
    assert not torch.equal(*checkpoint.samplers)  # two different noise streams, both kept
    resumed = subprocess.run(
        torchrun("train", "--resume", str(cut)), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    one, two = load_file(tmp_path / "straight" / "model.safetensors"), load_file(cut / "model.safetensors")
    for name in one:
        assert torch.equal(one[name], two[name]), name


def test_each_local_process_gets_its_share_of_the_cores():
    from aekit.training.distributed import threads_per_process

    assert threads_per_process(16, 2, {"OMP_NUM_THREADS": "1"}) == 8  # torchrun's default replaced
    assert threads_per_process(16, 4, {}) == 4
    assert threads_per_process(2, 4, {}) == 1
    assert threads_per_process(16, 2, {"OMP_NUM_THREADS": "3"}) is None  # the user's choice stays
