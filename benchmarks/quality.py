"""Reconstruction quality and time to quality of each family's defaults on MNIST.

Each row is exactly `aekit train --model M --latent-dim D --seed S` (the family's default
recipe, including its precision), trained on all 60,000 training images and scored on the
10,000 test images. Prints a Markdown table: test MSE per pixel, the same summed over an
image's 784 pixels (the unit of Hinton & Salakhutdinov, 2006), the goal for that code size
(an MSE within a training time), training seconds, and PCA at the same code size.

    python benchmarks/quality.py                      # the goal rows: deep at 2 (seeds 0-2), conv at 32
    python benchmarks/quality.py deep:2:1 deep:32 dense:2
"""

from __future__ import annotations

import sys
import tempfile

from aekit.training.pipeline import plan_new_run, train_run

# code size -> (test MSE, training seconds) to reach on the 2-core CI machine
GOALS = {2: (0.031, 300), 32: (0.0024, 180)}


def main(specs: list[str]) -> None:
    print("| command | precision | test MSE | per image (x784) | goal | train s | PCA MSE |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
    for spec in specs:
        family, dim, *seed = spec.split(":")
        dim, seed = int(dim), int(seed[0]) if seed else 0
        with tempfile.TemporaryDirectory() as folder:
            run, _ = train_run(plan_new_run(family, dim, seed=seed, out=folder), progress=False)
        error, seconds = run.metrics["val_mse"], run.metrics["train_seconds"]
        verdict = ""
        if dim in GOALS:
            goal_mse, goal_seconds = GOALS[dim]
            met = error <= goal_mse and seconds <= goal_seconds
            verdict = f"{goal_mse} in {goal_seconds} s: {'met' if met else 'MISSED'}"
        command = f"`aekit train --model {family} --latent-dim {dim} --seed {seed}`"
        pca = run.metrics["pca_val_mse"]
        print(
            f"| {command} | {run.training.precision} | {error:.5f} | {error * 784:.2f} | {verdict} | "
            f"{seconds:.0f} | {pca:.5f} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["deep:2:0", "deep:2:1", "deep:2:2", "conv:32:0"])
