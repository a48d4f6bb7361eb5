"""aekit on a CUDA GPU: a smoke test of every family and command, then the README's numbers.

    python benchmarks/gpu.py            # needs a CUDA GPU and MNIST (AEKIT_DATA_DIR)

Prints: a training step's time with and without CUDA graphs, for three families, and how far
their weights end apart; which families and commands ran on the GPU with ``--device auto``;
whether a codec file's bytes depend on the device that computed the codes; how many times a
training epoch made the host wait for the GPU; the tutorial's 20 epochs (first run in the
process, which pays CUDA's start-up, and again); encode + decode of the 60,000 training images;
and the time-to-quality rows of benchmarks/quality.py on the GPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from quality import GOAL_SPECS, train_spec, verdict  # noqa: E402

from aekit.codec.aez import decompress_file  # noqa: E402
from aekit.data.folders import load_split  # noqa: E402
from aekit.inference import decode, encode  # noqa: E402
from aekit.models import ModelConfig, build_model  # noqa: E402
from aekit.training.config import TrainConfig  # noqa: E402
from aekit.training.loop import fit  # noqa: E402
from aekit.training.pipeline import plan_new_run, train_run  # noqa: E402


def graphs_against_eager(images: np.ndarray) -> None:
    """One epoch per family with and without CUDA graphs: time per step, weight difference."""
    cases = (
        ("dense", 2, TrainConfig(epochs=1, device="cuda")),
        ("deep", 2, TrainConfig.for_family("deep", epochs=1, device="cuda")),
        ("conv", 32, TrainConfig.for_family("conv", epochs=1, device="cuda")),
    )
    for family, dim, config in cases:
        seconds, models = {}, {}
        for graphs in (False, True, False, True):
            model = build_model(ModelConfig(family=family, latent_dim=dim), seed=0)
            result = fit(model, images, None, config, progress=False, cuda_graphs=graphs)
            seconds.setdefault(graphs, []).append(result.train_seconds)
            models[graphs] = model
        steps = -(-len(images) // config.batch_size)
        difference = max(
            (a - b).abs().max().item()
            for a, b in zip(
                models[False].state_dict().values(), models[True].state_dict().values(), strict=True
            )
        )
        eager, graphed = (1000 * min(seconds[g]) / steps for g in (False, True))
        print(
            f"{family} ({config.precision}, batch {config.batch_size}): eager {eager:.3f} ms/step, "
            f"CUDA graph {graphed:.3f} ms/step ({eager / graphed:.1f}x); largest weight difference "
            f"after {steps} steps {difference:.2e}",
            flush=True,
        )


def aekit_command(*command: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "aekit", *command], capture_output=True, text=True)
    status = "ok" if done.returncode == 0 else f"FAILED ({done.returncode}): {done.stderr[-400:]}"
    print(f"aekit {' '.join(command[:3])}: {status}", flush=True)
    return done


def smoke_test(folder: Path) -> None:
    """Every family through the command line with the default --device auto."""
    cases = {
        "dense": [],
        "deep": ["--noise", "0.1"],
        "conv": ["--quantize", "--rate-weight", "0.01"],
        "vae": [],
        "hybrid": [],
        "codec": [],
    }
    for family, extra in cases.items():
        run = folder / family
        aekit_command(
            "train", "--model", family, "--epochs", "1", "--limit", "2048", "--out", str(run), *extra
        )
        aekit_command("encode", str(run), "mnist:test", "-o", str(folder / f"{family}.npy"))
        training = json.loads((run / "config.json").read_text())["training"]
        print(f"  trained on {training['device']} in {training['precision']}", flush=True)


def codec_bytes_by_device(folder: Path) -> None:
    """Compress the test set with the same codec run on the CPU and on the GPU: same bytes?"""
    run = folder / "codec"
    for quality in (3, 8, 12):
        files = {}
        for device in ("cpu", "cuda"):
            files[device] = folder / f"q{quality}_{device}.aez"
            done = aekit_command(
                "compress",
                str(run),
                "mnist:test",
                "-o",
                str(files[device]),
                "--quality",
                str(quality),
                "--device",
                device,
            )
            print(f"  {device}: {done.stdout.strip()}", flush=True)
        same = files["cpu"].read_bytes() == files["cuda"].read_bytes()
        print(f"quality {quality}: the CPU's and the GPU's files are {'identical' if same else 'DIFFERENT'}")
        if not same:
            restored = {d: decompress_file(f, run_folder=run) for d, f in files.items()}
            levels = np.abs(np.rint(restored["cpu"] * 255) - np.rint(restored["cuda"] * 255))
            print(
                f"  decoded on the CPU, they differ by at most {levels.max():.0f} levels "
                f"({(levels > 0).mean():.2e} of pixels)",
                flush=True,
            )


def count_host_waits(images: np.ndarray) -> None:
    """Train one epoch with CUDA's sync debug mode on and count the waits it reports."""
    for family, precision in (("dense", "float32"), ("deep", "bfloat16")):
        model = build_model(ModelConfig(family=family, latent_dim=2), seed=0)
        config = TrainConfig(epochs=1, device="cuda", precision=precision)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                fit(model, images, None, config, progress=False)
            finally:
                torch.cuda.set_sync_debug_mode("default")
        waits = sum("synchroniz" in str(w.message) for w in caught)
        steps = -(-len(images) // config.batch_size)
        print(f"host waits in one {family} epoch of {steps} steps: {waits}", flush=True)


def tutorial_and_inference(images: np.ndarray) -> None:
    for attempt in ("first in process", "again"):
        with tempfile.TemporaryDirectory() as folder:
            run, _ = train_run(plan_new_run("dense", 2, out=folder, device="cuda"), progress=False)
        print(
            f"tutorial, 20 epochs on the GPU ({attempt}): {run.metrics['train_seconds']:.2f} s, "
            f"val MSE {run.metrics['val_mse']:.5f}",
            flush=True,
        )
    model = run.model.to("cuda")
    for attempt in range(3):
        torch.cuda.synchronize()
        started = time.perf_counter()
        decode(model, encode(model, images))
        seconds = time.perf_counter() - started
        print(f"encode + decode of {len(images):,} images, try {attempt + 1}: {seconds:.3f} s", flush=True)


def main() -> None:
    print(f"GPU: {torch.cuda.get_device_name()}; PyTorch {torch.__version__}", flush=True)
    train = load_split("mnist", "train").images
    graphs_against_eager(train[:16384])
    tutorial_and_inference(train)
    print("| spec | precision | test MSE | goal | train s |")
    print("| --- | --- | ---: | --- | ---: |")
    for spec in sys.argv[1:] or GOAL_SPECS:
        row = train_spec(spec, "cuda")
        print(
            f"| {spec} | {row['precision']} | {row['val_mse']:.5f} | "
            f"{verdict(row['dim'], row['val_mse'], row['train_seconds'])} | {row['train_seconds']:.1f} |",
            flush=True,
        )
    with tempfile.TemporaryDirectory() as folder:
        smoke_test(Path(folder))
        codec_bytes_by_device(Path(folder))
    count_host_waits(train[:16384])


if __name__ == "__main__":
    main()
