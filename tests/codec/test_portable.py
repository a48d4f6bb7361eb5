"""A file decodes to the same pixels under every CPU kernel set, thread count and device.

Each kernel set is a subprocess (PyTorch picks its kernels once, at start-up) that decodes the
files this process wrote, compresses the same images itself, and decodes the files the
previous subprocess wrote. Every decode of one file must give identical pixel levels, and the
lossless level the input's levels exactly. Pixel levels of these small untrained networks
rarely sit near a rounding boundary, so each subprocess also computes the exact decoder's
integers before they become levels, which must be identical too; the float network's outputs,
computed beside them, differ in their last bits between these kernel sets in about half the
values (on a CPU with AVX-512 that is checked, so the kernel sets are known to differ).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.codec.aez import compress_file, decompress_file
from aekit.codec.entropy import fit_entropy_model
from aekit.codec.tables import QUALITY_LEVELS, CodecTables, fit_residual, tables_path
from aekit.data.arrays import as_uint8
from aekit.fileio import atomic_write_text
from aekit.inference import encode
from aekit.models import ModelConfig, build_model
from aekit.runs import Run, save_run
from aekit.training.config import TrainConfig

CHILD = Path(__file__).with_name("portable_child.py")
# What a laptop, an older server or a build without SIMD runs, beside this CPU's own choice.
KERNEL_SETS = {
    "native-2threads": ({}, 2),
    "avx2-1thread": (
        {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
        1,
    ),
    "avx512-2threads": ({"ATEN_CPU_CAPABILITY": "avx512"}, 2),
    "scalar-1thread": (
        {
            "ATEN_CPU_CAPABILITY": "default",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        },
        1,
    ),
}


def images_like_digits(count: int, seed: int) -> np.ndarray:
    """Bright strokes on a dark ground with soft edges, (count, 1, 28, 28) in [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28]
    images = np.zeros((count, 1, 28, 28), np.float32)
    for image in images:
        for _ in range(3):
            centre, direction = rng.uniform(6, 22, 2), rng.normal(size=2)
            direction /= np.linalg.norm(direction)
            offset = np.stack([rows - centre[0], cols - centre[1]])
            along = np.abs(direction[0] * offset[0] + direction[1] * offset[1])
            across = np.abs(direction[1] * offset[0] - direction[0] * offset[1])
            image[0] = np.maximum(image[0], np.clip(2.0 - across, 0, 1) * (along < rng.uniform(4, 9)))
    return np.clip(images + rng.normal(0, 0.02, images.shape).astype(np.float32), 0, 1)


def make_run(
    folder: Path, config: ModelConfig, images: np.ndarray, settings: list[tuple[float, int]]
) -> None:
    """A run folder holding the model and its tables for each (step, residual step), so that
    compressing never reads a dataset."""
    run = Run(model=build_model(config, seed=0), training=TrainConfig(precision="auto"))
    run.model.prepare(images)
    save_run(run, folder)
    for step, residual_step in settings:
        latent = fit_entropy_model(encode(run.model, images, precision=run.training.precision), step)
        residual = (
            fit_residual(run.model, latent, images, residual_step, run.training.precision)
            if residual_step
            else None
        )
        tables = CodecTables(latent, residual)
        atomic_write_text(tables_path(folder, run.model, tables), tables.to_json())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files of every quality of a codec run, and code-only files of a hybrid run (resizing,
    clipping) and of the tutorial's dense run (LeakyReLU), each compressed by this process."""
    work = tmp_path_factory.mktemp("portable")
    images = images_like_digits(48, seed=1)
    np.save(work / "images.npy", images)
    make_run(
        work / "codec", ModelConfig("codec", latent_dim=8, hidden=4), images, list(QUALITY_LEVELS.values())
    )
    make_run(
        work / "hybrid", ModelConfig("hybrid", latent_dim=8, hidden=4, upsample="resize"), images, [(0.5, 0)]
    )
    make_run(work / "dense", ModelConfig("dense", latent_dim=2, hidden=32), images, [(0.25, 0)])
    plan = [
        {"name": f"codec-q{q}", "run": str(work / "codec"), "quality": q, "step": None}
        for q in QUALITY_LEVELS
    ]
    plan += [
        {"name": "hybrid", "run": str(work / "hybrid"), "quality": None, "step": 0.5},
        {"name": "dense", "run": str(work / "dense"), "quality": None, "step": 0.25},
    ]
    for job in plan:
        job["images"] = str(work / "images.npy")
        compress_file(
            job["run"], job["images"], work / f"{job['name']}.aez", quality=job["quality"], step=job["step"]
        )
    (work / "plan.json").write_text(json.dumps(plan))
    return work, plan, as_uint8(images)


def decoded(work: Path, job: dict, name: str, device: str = "cpu") -> np.ndarray:
    return as_uint8(decompress_file(work / f"{name}.aez", run_folder=job["run"], device=device))


def test_every_kernel_set_decodes_every_file_to_the_same_pixels(files):
    work, plan, levels = files
    previous, first = None, next(iter(KERNEL_SETS))
    float_differs = {"codec": 0, "hybrid": 0, "dense": 0}
    for tag, (variables, threads) in KERNEL_SETS.items():
        env = {**os.environ, **variables, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        subprocess.run(
            [sys.executable, str(CHILD), str(work), tag, *([previous] if previous else [])],
            env=env,
            check=True,
            timeout=600,
        )
        for job in plan:
            name = job["name"]
            here = decoded(work, job, name)
            np.testing.assert_array_equal(np.load(work / f"{tag}-{name}.npy"), here, err_msg=f"{tag} {name}")
            if previous:
                # A file another kernel set compressed decodes here as it does there.
                there = np.load(work / f"{tag}-from-{previous}-{name}.npy")
                np.testing.assert_array_equal(there, decoded(work, job, f"{previous}-{name}"), err_msg=name)
            if job["quality"] == max(QUALITY_LEVELS):
                np.testing.assert_array_equal(here, levels)  # lossless stays lossless
                np.testing.assert_array_equal(decoded(work, job, f"{tag}-{name}"), levels)
        for folder in ("codec", "hybrid", "dense"):
            exact = np.load(work / f"{tag}-{folder}-exact.npy")
            np.testing.assert_array_equal(exact, np.load(work / f"{first}-{folder}-exact.npy"), err_msg=tag)
            float_outputs = np.load(work / f"{tag}-{folder}-float.npy")
            float_differs[folder] += not np.array_equal(
                float_outputs, np.load(work / f"{first}-{folder}-float.npy")
            )
        previous = tag
    if torch.backends.cpu.get_cpu_capability() == "AVX512":
        assert float_differs["codec"] and float_differs["hybrid"]


def test_one_thread_decodes_as_two(files):
    work, plan, _ = files
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = [decoded(work, job, job["name"]) for job in plan]
    finally:
        torch.set_num_threads(threads)
    for job, pixels in zip(plan, single, strict=True):
        np.testing.assert_array_equal(pixels, decoded(work, job, job["name"]), err_msg=job["name"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gpu_decodes_every_file_to_the_same_pixels(files):
    work, plan, levels = files
    for job in plan:
        gpu = decoded(work, job, job["name"], device="cuda")
        np.testing.assert_array_equal(gpu, decoded(work, job, job["name"]), err_msg=job["name"])
        if job["quality"] == max(QUALITY_LEVELS):
            np.testing.assert_array_equal(gpu, levels)
