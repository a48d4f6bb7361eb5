"""Rebuild the built-in models (aekit/builtin/) from run folders, and measure them.

    python benchmarks/builtin_models.py --runs trained/ [--train]

With ``--train`` each model is first trained by the command its entry names, into
``RUNS/NAME`` (skipped where that folder holds a run); ``AEKIT_DATA_DIR`` must reach MNIST and
Fashion-MNIST (e.g. the folder holding ``mnist/`` and ``fashion-mnist/``). Each run is then
packed: its weights stored in float16, its config and metrics copied; for the codec the
probability tables of every quality, for the others those of the default step 1, so that
nothing is fitted on first use. The figures measured on the packed weights (the test split's
MSE and PSNR; the codec's bytes per image and PSNR at every quality), the same on the first
1,000 test images for the test that re-measures them, every file's SHA-256 and the training
command go into aekit/builtin/manifest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.torch import load_file, save_file

from aekit.builtin import MANIFEST, ROOT
from aekit.codec.aez import code_images, decompress_images
from aekit.codec.tables import QUALITY_LEVELS, tables_for
from aekit.data.folders import load_split
from aekit.inference import reconstruct
from aekit.metrics import mse, psnr
from aekit.runs import load_run

# name -> the command that trains it (its --out added)
COMMANDS = {
    "tutorial": "aekit train",
    "mnist-conv32": "aekit train --model conv --latent-dim 32 --hidden 16",
    "mnist-codec": "aekit train --model codec",
    "fashion-conv32": "aekit train --model conv --latent-dim 32 --hidden 16 --dataset fashion-mnist",
}
SUBSET = 1000


def pack(source: Path, target: Path) -> None:
    """Copy a run's config (coding in float32, so that every CPU encodes as the manifest
    measured, not in bfloat16 only where the hardware has it) and metrics, and its weights in
    float16."""
    target.mkdir(parents=True)
    config = json.loads((source / "config.json").read_text())
    config["training"]["precision"] = "float32"
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copy(source / "metrics.json", target / "metrics.json")
    state = load_file(str(source / "model.safetensors"))
    save_file(
        {key: value.half().contiguous() for key, value in state.items()}, str(target / "model.safetensors")
    )


def figures(folder: Path) -> dict:
    """The packed run's tables fitted and stored, and its measured figures."""
    run = load_run(folder)
    test = load_split(run.dataset, "test").images
    entry: dict = {
        "family": run.model.config.family,
        "latent_dim": run.model.config.latent_dim,
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "dataset": run.dataset,
    }
    restored = np.clip(reconstruct(run.model, test), 0, 1)
    error = mse(test, restored)
    entry["test"] = {"images": len(test), "mse": round(error, 6), "psnr": round(psnr(error), 3)}
    entry["subset"] = {"images": SUBSET, "mse": round(mse(test[:SUBSET], restored[:SUBSET]), 6)}
    levels = QUALITY_LEVELS if run.model.config.family == "codec" else {}
    if not levels:
        tables_for(run, folder, 1.0)
    qualities, subset = {}, {}
    for quality, (step, residual_step) in levels.items():
        tables = tables_for(run, folder, step, residual_step)
        for images, into in ((test, qualities), (test[:SUBSET], subset)):
            coded = code_images(run, tables, images)
            decoded = decompress_images(run, tables, coded.data)
            error = mse(images, decoded)
            into[str(quality)] = {
                "bytes_per_image": round(len(coded.data) / len(images), 3),
                "psnr": None if error == 0 else round(psnr(error), 3),
            }
    if levels:
        entry["qualities"], entry["subset"]["qualities"] = qualities, subset
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=Path, required=True, help="a folder of run folders named as the built-ins"
    )
    parser.add_argument("--train", action="store_true", help="train the runs that are missing first")
    args = parser.parse_args()
    manifest = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, command in COMMANDS.items():
            source = args.runs / name
            if args.train and not (source / "model.safetensors").is_file():
                argv = [sys.executable, "-m", "aekit", *shlex.split(command)[1:], "--out", str(source)]
                subprocess.run(argv, check=True)
            packed = Path(scratch) / name
            pack(source, packed)
            entry = figures(packed)
            entry["command"] = command
            files = sorted(p for p in packed.rglob("*") if p.is_file())
            entry["files"] = {
                str(p.relative_to(packed)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
            }
            entry["bytes"] = sum(p.stat().st_size for p in files)
            manifest[name] = entry
            shutil.rmtree(ROOT / name, ignore_errors=True)
            shutil.copytree(packed, ROOT / name)
            print(f"{name}: {entry['test']} {entry['bytes'] / 1e6:.2f} MB", flush=True)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{sum(e['bytes'] for e in manifest.values()) / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
