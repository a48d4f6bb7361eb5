"""The OpenMP wait policy aekit sets: in place before torch loads, and results unchanged by it."""

import os
import subprocess
import sys

import torch
from safetensors.torch import load_file


def test_importing_aekit_sets_a_short_spin_unless_the_user_chose_one():
    probe = "import os, aekit; print(os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "4000"
    mine = subprocess.run(
        [sys.executable, "-c", probe], env={**env, "GOMP_SPINCOUNT": "77"}, capture_output=True, text=True
    )
    assert mine.stdout.strip() == "77"
    passive = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "OMP_WAIT_POLICY": "PASSIVE"},
        capture_output=True,
        text=True,
    )
    assert passive.stdout.strip() == "None"


def test_the_wait_policy_does_not_change_the_weights(tmp_path, require_mnist):
    weights = []
    for spin in ("4000", "300000"):  # aekit's and libgomp's own default
        out = tmp_path / spin
        command = [
            sys.executable,
            "-m",
            "aekit",
            "train",
            "--epochs",
            "1",
            "--limit",
            "3000",
            "--out",
            str(out),
        ]
        env = {**os.environ, "GOMP_SPINCOUNT": spin}
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
        weights.append(load_file(str(out / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name
