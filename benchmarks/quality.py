"""Reconstruction quality and time to quality of each family's defaults on MNIST.

Each row is exactly `aekit train --model M --latent-dim D --seed S` (the family's default
recipe, including its precision), trained on all 60,000 training images and scored on the
10,000 test images. Prints a Markdown table: test MSE per pixel, the same summed over an
image's 784 pixels (the unit of Hinton & Salakhutdinov, 2006), the goal for that code size
(an MSE within a training time), training seconds, and PCA at the same code size.

    python benchmarks/quality.py                      # the goal rows: deep at 2 (seeds 0-2), conv at 32
    python benchmarks/quality.py deep:2:1 deep:32 dense:2
    python benchmarks/quality.py --device cuda conv:32:0:batch_size=256,lr=0.003   # a recipe change
"""

from __future__ import annotations

import argparse
import tempfile

from aekit.training.pipeline import plan_new_run, train_run

# code size -> (test MSE, training seconds) to reach on the 2-core CI machine
GOALS = {2: (0.031, 300), 32: (0.0024, 180)}
GOAL_SPECS = ["deep:2:0", "deep:2:1", "deep:2:2", "conv:32:0"]


def parse_spec(spec: str) -> tuple[str, int, int, dict]:
    """``family:dim[:seed[:name=value,...]]`` -> (family, dim, seed, training/model overrides)."""
    family, dim, *rest = spec.split(":")
    seed = int(rest[0]) if rest else 0
    overrides = {}
    for item in rest[1].split(",") if len(rest) > 1 and rest[1] else []:
        name, value = item.split("=")
        if value in ("true", "false"):
            overrides[name] = value == "true"
        else:
            overrides[name] = float(value) if "." in value or "e-" in value else int(value)
    return family, int(dim), seed, overrides


def train_spec(spec: str, device: str = "cpu") -> dict:
    """Train one spec on MNIST in a temporary folder; its test MSE, seconds and PCA's MSE."""
    family, dim, seed, overrides = parse_spec(spec)
    with tempfile.TemporaryDirectory() as folder:
        plan = plan_new_run(family, dim, seed=seed, out=folder, device=device, **overrides)
        run, _ = train_run(plan, progress=False)
    return {
        "spec": spec,
        "family": family,
        "dim": dim,
        "seed": seed,
        "precision": run.training.precision,
        "val_mse": run.metrics["val_mse"],
        "train_seconds": run.metrics["train_seconds"],
        "pca_val_mse": run.metrics["pca_val_mse"],
    }


def verdict(dim: int, error: float, seconds: float) -> str:
    if dim not in GOALS:
        return ""
    goal_mse, goal_seconds = GOALS[dim]
    met = error <= goal_mse and seconds <= goal_seconds
    return f"{goal_mse} in {goal_seconds} s: {'met' if met else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=GOAL_SPECS, help="family:dim[:seed[:name=value,...]]")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print("| command | precision | test MSE | per image (x784) | goal | train s | PCA MSE |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
    for spec in args.specs:
        row = train_spec(spec, args.device)
        family, dim, seed, overrides = parse_spec(spec)
        flags = "".join(f" --{name.replace('_', '-')} {value}" for name, value in overrides.items())
        command = f"`aekit train --model {family} --latent-dim {dim} --seed {seed}{flags}`"
        error, seconds = row["val_mse"], row["train_seconds"]
        print(
            f"| {command} | {row['precision']} | {error:.5f} | {error * 784:.2f} | "
            f"{verdict(dim, error, seconds)} | {seconds:.0f} | {row['pca_val_mse']:.5f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
