"""Training and inference speed of aekit against its peers, measured side by side in one run.

The tutorial's configuration (dense 784-300-2, Adam 0.0005, batch 256, 20 epochs, validation
on the 10,000 test images after every epoch) is trained by:

- aekit (`aekit.training.loop.fit`);
- a plain PyTorch loop, written the straightforward way: a random permutation per epoch,
  index a batch, forward, backward, `Adam.step()`;
- Keras (when TensorFlow is installed: `pip install -e '.[bench]'`), the tutorial's model
  with `model.fit`.

aekit runs twice: in float32 (its default) and with the opt-in `precision="bfloat16"`.
Each peer runs in its own process (so peak memory is its own), one seed after another with
the peers interleaved, so a noisy machine slows them alike. Then encode + decode of all
60,000 training images with each. The floor is the run's floating-point operations divided
by the matrix-multiply rate this machine sustains (float32, or bfloat16 for the bfloat16 row),
measured in the same run. The matrix products of one training step are also timed alone at
their own shapes (batch 256): what no loop over the same BLAS kernels can beat.

The conv family's recipe (2-number code) is measured the same way for one epoch per run,
through aekit (float32 and bfloat16) and a plain loop over the same module; its FLOPs are
counted by PyTorch's FlopCounterMode.

    python benchmarks/speed.py               # 3 seeds
    python benchmarks/speed.py --seeds 1     # quicker
    python benchmarks/speed.py --no-conv     # the tutorial's model only
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

EPOCHS, BATCH, LR, EPS = 20, 256, 0.0005, 1e-7
PIXELS, HIDDEN, CODE = 784, 300, 2
N_TRAIN, N_VAL = 60_000, 10_000
CONV_EPOCHS = 1  # the conv family's epochs take ~35 s here: one per run says enough
# Multiply-adds of one forward pass: the four dense layers.
FORWARD_MACS = PIXELS * HIDDEN + HIDDEN * CODE + CODE * HIDDEN + HIDDEN * PIXELS


def step_products() -> list[tuple[tuple[int, int, bool], tuple[int, int, bool]]]:
    """The matrix products of one training step of the tutorial's model, batch 256, as
    (rows, columns, transposed) of each operand, laid out as autograd hands them to the BLAS:
    every layer's forward product and weight gradient, and the input gradient of every layer
    but the first (the images need none)."""
    widths = [PIXELS, HIDDEN, CODE, HIDDEN, PIXELS]
    products = []
    for layer, (inputs, outputs) in enumerate(itertools.pairwise(widths)):
        products.append(((BATCH, inputs, False), (inputs, outputs, True)))  # x @ W.T
        products.append(((outputs, BATCH, True), (BATCH, inputs, False)))  # dz.T @ x
        if layer > 0:
            products.append(((BATCH, outputs, False), (outputs, inputs, False)))  # dz @ W
    return products


STEP_PRODUCTS = step_products()
STEP_FLOPS = sum(2 * rows * inner * columns for (rows, inner, _), (_, columns, _) in STEP_PRODUCTS)


# --- the peers, each run in a child process ---------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_aekit(seed: int, family: str = "dense", precision: str = "float32") -> dict:
    """aekit's own fit, then encode + decode of the training set. ``dense`` is the tutorial's
    configuration; ``conv`` its family's recipe (2-number code) for CONV_EPOCHS epochs."""
    from aekit.data.idx import load_dataset
    from aekit.inference import decode, encode
    from aekit.models import build_model
    from aekit.training.config import make_configs
    from aekit.training.loop import fit

    train, test = load_dataset("train").images, load_dataset("test").images
    # The plain conv loop has no schedule; the cost per step is the same either way.
    conv_only = {"epochs": CONV_EPOCHS, "schedule": "constant"} if family == "conv" else {}
    model_config, train_config = make_configs(family, CODE, seed=seed, precision=precision, **conv_only)
    model = build_model(model_config, seed=seed)
    started = time.perf_counter()
    result = fit(model, train, test, train_config, progress=False)
    trained, train_rss = time.perf_counter() - started, peak_rss_mb()
    started = time.perf_counter()
    decode(model, encode(model, train, precision=precision), precision=precision)
    return {
        "train_s": trained,
        "val_mse": result.val_mse,
        "infer_s": time.perf_counter() - started,
        "train_rss_mb": train_rss,
    }


def plain_epoch(model, optimizer, loss_fn, train, batch_size: int) -> None:
    """One epoch written the straightforward way: a random permutation, index a batch,
    forward, backward, ``Adam.step``."""
    import torch

    model.train()
    permutation = torch.randperm(len(train))
    for start in range(0, len(train), batch_size):
        batch = train[permutation[start : start + batch_size]]
        loss = loss_fn(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def run_plain(seed: int) -> dict:
    import torch
    from torch import nn

    from aekit.data.idx import load_dataset

    torch.manual_seed(seed)
    train = torch.as_tensor(load_dataset("train").images.reshape(N_TRAIN, PIXELS))
    test = torch.as_tensor(load_dataset("test").images.reshape(N_VAL, PIXELS))
    encoder = nn.Sequential(
        nn.Linear(PIXELS, HIDDEN), nn.LeakyReLU(0.3), nn.Linear(HIDDEN, CODE), nn.LeakyReLU(0.3)
    )
    decoder = nn.Sequential(
        nn.Linear(CODE, HIDDEN), nn.LeakyReLU(0.3), nn.Linear(HIDDEN, PIXELS), nn.LeakyReLU(0.3)
    )
    for layer in [*encoder, *decoder]:
        if isinstance(layer, nn.Linear):  # Keras' initialisation, so all three start alike
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    model = nn.Sequential(encoder, decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, eps=EPS)
    loss_fn = nn.MSELoss()
    started = time.perf_counter()
    for _ in range(EPOCHS):
        plain_epoch(model, optimizer, loss_fn, train, BATCH)
        model.eval()
        with torch.no_grad():
            val_mse = loss_fn(model(test), test).item()
    trained, train_rss = time.perf_counter() - started, peak_rss_mb()
    started = time.perf_counter()
    with torch.no_grad():  # keep the reconstructions, as the other peers do
        torch.cat([decoder(encoder(train[start : start + BATCH])) for start in range(0, N_TRAIN, BATCH)])
    return {
        "train_s": trained,
        "val_mse": val_mse,
        "infer_s": time.perf_counter() - started,
        "train_rss_mb": train_rss,
    }


def run_keras(seed: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from aekit.data.idx import load_dataset

    keras.utils.set_random_seed(seed)
    train = load_dataset("train").images.reshape(N_TRAIN, PIXELS)
    test = load_dataset("test").images.reshape(N_VAL, PIXELS)
    pixels_in = keras.Input((PIXELS,))
    hidden = keras.layers.LeakyReLU(negative_slope=0.3)(keras.layers.Dense(HIDDEN)(pixels_in))
    code = keras.layers.LeakyReLU(negative_slope=0.3)(keras.layers.Dense(CODE)(hidden))
    encoder = keras.Model(pixels_in, code)
    code_in = keras.Input((CODE,))
    hidden = keras.layers.LeakyReLU(negative_slope=0.3)(keras.layers.Dense(HIDDEN)(code_in))
    pixels_out = keras.layers.LeakyReLU(negative_slope=0.3)(keras.layers.Dense(PIXELS)(hidden))
    decoder = keras.Model(code_in, pixels_out)
    autoencoder = keras.Model(pixels_in, decoder(encoder(pixels_in)))
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="mse")
    started = time.perf_counter()
    history = autoencoder.fit(
        train, train, epochs=EPOCHS, batch_size=BATCH, shuffle=True, validation_data=(test, test), verbose=0
    )
    trained, train_rss = time.perf_counter() - started, peak_rss_mb()
    started = time.perf_counter()
    decoder.predict(encoder.predict(train, verbose=0), verbose=0)  # predict's defaults, as users call it
    return {
        "train_s": trained,
        "val_mse": history.history["val_loss"][-1],
        "infer_s": time.perf_counter() - started,
        "train_rss_mb": train_rss,
    }


def run_conv_plain(seed: int) -> dict:
    """The same conv model and settings in a straightforward loop."""
    import torch

    from aekit.data.idx import load_dataset
    from aekit.models import build_model
    from aekit.training.config import make_configs

    torch.manual_seed(seed)
    train = torch.as_tensor(load_dataset("train").images)
    test = torch.as_tensor(load_dataset("test").images)
    model_config, train_config = make_configs("conv", CODE, seed=seed)
    model = build_model(model_config, seed=seed)
    batch_size = train_config.batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, eps=train_config.adam_eps)
    loss_fn = torch.nn.MSELoss()
    started = time.perf_counter()
    for _ in range(CONV_EPOCHS):
        plain_epoch(model, optimizer, loss_fn, train, batch_size)
        model.eval()
        with torch.no_grad():
            chunks = [test[i : i + 1000] for i in range(0, len(test), 1000)]
            val_mse = sum(loss_fn(model(chunk), chunk).item() for chunk in chunks) / len(chunks)
    trained, train_rss = time.perf_counter() - started, peak_rss_mb()
    started = time.perf_counter()
    with torch.no_grad():
        batches = [train[i : i + batch_size] for i in range(0, len(train), batch_size)]
        torch.cat([model.decoder(model.encoder(batch)) for batch in batches])
    return {
        "train_s": trained,
        "val_mse": val_mse,
        "infer_s": time.perf_counter() - started,
        "train_rss_mb": train_rss,
    }


def conv_flops() -> tuple[float, float, str]:
    """Training and inference FLOPs of the conv runs, counted by PyTorch's FlopCounterMode on
    one batch (convolutions and matrix products; the forward pass and the backward pass)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from aekit.models import build_model
    from aekit.training.config import make_configs

    model_config, train_config = make_configs("conv", CODE)
    model = build_model(model_config, seed=0)
    batch = torch.rand(train_config.batch_size, *model_config.input_shape)
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.mse_loss(model(batch), batch).backward()
    step = counter.get_total_flops() / train_config.batch_size
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(batch)
    forward = counter.get_total_flops() / train_config.batch_size
    train_flops = CONV_EPOCHS * (N_TRAIN * step + N_VAL * forward)
    arithmetic = (
        f"{CONV_EPOCHS} x (60,000 x {step / 1e6:.2f} MFLOP + 10,000 x {forward / 1e6:.2f} MFLOP) per image"
    )
    return train_flops, N_TRAIN * forward, arithmetic


def operand(shape: tuple[int, int, bool], dtype):
    """A random (rows, columns) matrix, as a transposed view when the product sees one."""
    import torch

    rows, columns, transposed = shape
    if transposed:
        return torch.rand(columns, rows, dtype=dtype).t()
    return torch.rand(rows, columns, dtype=dtype)


def sustained_rate(pairs: list, flops: float) -> float:
    """FLOP/s of multiplying every (a, b) pair in turn: the best of three 2-second runs."""
    import torch

    for a, b in pairs:
        torch.mm(a, b)
    best = 0.0
    for _ in range(3):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < 2.0:
            for a, b in pairs:
                torch.mm(a, b)
            count += 1
        best = max(best, flops * count / (time.perf_counter() - started))
    return best


def run_matmul(_seed: int) -> dict:
    """The sustained matrix-multiply rates, float32 and bfloat16: on 1024x1024 matrices (the
    floor), and on the products of one tutorial training step at their own shapes."""
    import torch

    size = 1024
    rates = {}
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        square = [(torch.rand(size, size, dtype=dtype), torch.rand(size, size, dtype=dtype))]
        rates[name] = sustained_rate(square, 2 * size**3)
        step = [(operand(a, dtype), operand(b, dtype)) for a, b in STEP_PRODUCTS]
        rates[f"{name} step"] = sustained_rate(step, STEP_FLOPS)
    return rates


PEERS = {
    "aekit": run_aekit,
    "aekit bfloat16": lambda seed: run_aekit(seed, precision="bfloat16"),
    "plain PyTorch loop": run_plain,
    "Keras": run_keras,
    "aekit conv": lambda seed: run_aekit(seed, family="conv"),
    "aekit conv bfloat16": lambda seed: run_aekit(seed, family="conv", precision="bfloat16"),
    "plain PyTorch loop conv": run_conv_plain,
    "matmul": run_matmul,
}


# --- the driver ---------------------------------------------------------------------------


def measure(peer: str, seed: int) -> dict:
    """Run ``peer`` in a fresh process; its result plus its peak resident memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", peer, "--seed", str(seed)], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{peer} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def keras_available() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


def machine() -> str:
    """CPU model, core count and library versions, for the record."""
    import torch

    model = platform.processor() or "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        names = [
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        ]
        model = names[0] if names else model
    versions = [
        f"Python {platform.python_version()}",
        f"torch {torch.__version__}",
        f"numpy {np.__version__}",
    ]
    for distribution in ("tensorflow-cpu", "tensorflow", "keras"):
        try:
            versions.append(f"{distribution} {importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return f"{model}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; {', '.join(versions)}"


def print_table(peers: list[str], runs: dict, floors: dict[str, tuple[float, float]]) -> dict:
    """One row per peer (medians of the seeds; MSE their mean) and one per floor (keyed by the
    peer it bounds); returns each peer's (train s, encode+decode s, val MSE)."""
    print(
        "\n| peer | train s (median) | val MSE (mean) | encode+decode s (median) "
        "| peak RSS MB, training | peak RSS MB, all |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for peer in peers:
        train_s = statistics.median(r["train_s"] for r in runs[peer])
        infer_s = statistics.median(r["infer_s"] for r in runs[peer])
        mse = statistics.mean(r["val_mse"] for r in runs[peer])
        train_rss = max(r["train_rss_mb"] for r in runs[peer])
        rss = max(r["peak_rss_mb"] for r in runs[peer])
        summary[peer] = (train_s, infer_s, mse)
        print(f"| {peer} | {train_s:.1f} | {mse:.5f} | {infer_s:.3f} | {train_rss:.0f} | {rss:.0f} |")
    for peer, (train_s, infer_s) in floors.items():
        print(f"| {peer} floor | {train_s:.1f} | | {infer_s:.3f} | | |")
    return summary


def print_ratios(summary: dict, ours: str, peers: list[str], floors: dict[str, tuple[float, float]]) -> None:
    ours_train, ours_infer, _ = summary[ours]
    for peer in peers:
        print(
            f"{peer} / {ours}: training {summary[peer][0] / ours_train:.2f}x, "
            f"encode+decode {summary[peer][1] / ours_infer:.2f}x"
        )
    for peer, (floor_train, floor_infer) in floors.items():
        print(
            f"{peer} / its floor: training {summary[peer][0] / floor_train:.2f}x, "
            f"encode+decode {summary[peer][1] / floor_infer:.2f}x"
        )


def report(peers: list[str], runs: dict, rates: dict, train_flops: float, infer_flops: float) -> dict:
    """Table and ratios of one model's peers: aekit in float32 first, aekit in bfloat16
    second, each with its floor at its precision's matrix-multiply rate, then the others.
    Returns each peer's (train s, encode+decode s, val MSE)."""
    ours, ours_bf16 = peers[:2]
    floors = {
        peer: (train_flops / rates[precision], infer_flops / rates[precision])
        for peer, precision in ((ours, "float32"), (ours_bf16, "bfloat16"))
    }
    summary = print_table(peers, runs, floors)
    print()
    print_ratios(summary, ours, peers[2:], floors)
    print_ratios(summary, ours_bf16, peers[2:], {})
    change = summary[ours_bf16][2] / summary[ours][2] - 1
    print(f"{ours_bf16} val MSE against float32: {change:+.2%}")
    return summary


def print_products_bound(summary: dict, rates: dict, train_flops: float) -> None:
    """Each dense peer's training time against the time its matrix products alone take at the
    shapes a batch of 256 gives them: a bound no loop over these BLAS kernels can beat."""
    alone = {precision: train_flops / rates[f"{precision} step"] for precision in ("float32", "bfloat16")}
    print(
        f"\nthe training's matrix products alone, timed at a training step's own shapes "
        f"({rates['float32 step'] / 1e9:.1f} GFLOP/s float32, {rates['bfloat16 step'] / 1e9:.1f} bfloat16): "
        f"{alone['float32']:.1f} s float32, {alone['bfloat16']:.1f} s bfloat16"
    )
    for peer, (train_s, _, _) in summary.items():
        precision = "bfloat16" if "bfloat16" in peer else "float32"
        print(f"{peer} / its products alone: training {train_s / alone[precision]:.2f}x")
    plain = summary["plain PyTorch loop"][0]
    print(
        f"1.8x faster than the plain loop means training in {plain / 1.8 / alone['float32']:.2f}x "
        "the time of its float32 products alone"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="training runs per peer (default: 3)")
    parser.add_argument("--no-conv", action="store_true", help="skip the convolutional model's rows")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = PEERS[args.worker](args.seed)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    dense = ["aekit", "aekit bfloat16", "plain PyTorch loop"] + (["Keras"] if keras_available() else [])
    conv = [] if args.no_conv else ["aekit conv", "aekit conv bfloat16", "plain PyTorch loop conv"]
    print(machine())
    if "Keras" not in dense:
        print("(TensorFlow is not installed: no Keras row; pip install -e '.[bench]' adds it)")
    rates = measure("matmul", 0)
    runs = {peer: [] for peer in dense + conv}
    for seed in range(args.seeds):
        for peer in dense + conv:
            runs[peer].append(measure(peer, seed))
            print(f"  seed {seed} {peer}: {runs[peer][-1]}", flush=True)
    again = measure("matmul", 0)
    rates = {name: max(rate, again[name]) for name, rate in rates.items()}

    # Training multiplies each batch three times per layer (forward, weight gradient, input
    # gradient), except that the first layer's input needs no gradient; validation is forward.
    train_flops = EPOCHS * (N_TRAIN * 2 * (3 * FORWARD_MACS - PIXELS * HIDDEN) + N_VAL * 2 * FORWARD_MACS)
    infer_flops = N_TRAIN * 2 * FORWARD_MACS
    print(
        f"\ndense floor: training {train_flops / 1e12:.3f} TFLOP (20 x (60,000 x 2 x (3 x {FORWARD_MACS:,} - "
        f"{PIXELS * HIDDEN:,}) + 10,000 x 2 x {FORWARD_MACS:,})), inference {infer_flops / 1e9:.1f} GFLOP "
        f"(60,000 x 2 x {FORWARD_MACS:,});\nsustained matmul rate (1024x1024): "
        f"{rates['float32'] / 1e9:.1f} GFLOP/s float32, {rates['bfloat16'] / 1e9:.1f} GFLOP/s bfloat16"
    )
    print_products_bound(report(dense, runs, rates, train_flops, infer_flops), rates, train_flops)
    if not conv:
        return

    train_flops, infer_flops, arithmetic = conv_flops()
    print(
        f"\nconv model (conv family recipe, 2-number code), {CONV_EPOCHS} epoch per run: "
        f"training {train_flops / 1e12:.3f} TFLOP ({arithmetic}), inference {infer_flops / 1e9:.1f} GFLOP"
    )
    report(conv, runs, rates, train_flops, infer_flops)


if __name__ == "__main__":
    main()
