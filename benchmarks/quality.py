"""Reconstruction quality of each family's defaults on MNIST, against PCA and the literature.

Each row is exactly `aekit train --model M --latent-dim D` (the family's default recipe),
trained on all 60,000 training images and scored on the 10,000 test images. Prints a
Markdown table: test MSE per pixel, the same summed over an image's 784 pixels (the unit of
Hinton & Salakhutdinov, 2006), training seconds, and PCA at the same code size.

    python benchmarks/quality.py                      # the goal rows: deep at 2, conv at 32
    python benchmarks/quality.py deep:2 deep:32 dense:2
"""

from __future__ import annotations

import sys
import tempfile

from aekit.baselines import pca_mse
from aekit.data.idx import load_dataset
from aekit.training.pipeline import plan_new_run, train_run

GOALS = {2: 0.031, 32: 0.0032}


def main(specs: list[str]) -> None:
    train, test = load_dataset("train"), load_dataset("test")
    print("| command | test MSE | per image (x784) | goal | train s | PCA MSE |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for spec in specs:
        family, dim = spec.split(":")
        dim = int(dim)
        with tempfile.TemporaryDirectory() as folder:
            run, _ = train_run(plan_new_run(family, dim, out=folder), progress=False)
        error = run.metrics["val_mse"]
        goal = GOALS.get(dim)
        baseline = pca_mse(train.images, test.images, dim)
        verdict = "" if goal is None else f"{goal} {'met' if error <= goal else 'MISSED'}"
        print(
            f"| `aekit train --model {family} --latent-dim {dim}` | {error:.5f} | {error * 784:.2f} | "
            f"{verdict} | {run.metrics['train_seconds']:.0f} | {baseline:.5f} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["deep:2", "conv:32"])
