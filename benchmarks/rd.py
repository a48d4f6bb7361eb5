"""Rate-distortion and speed of aekit's codec against PNG, JPEG, WebP and PCA on MNIST test.

Every size comes from real bytes: aekit and PCA write one .aez-style stream for all 10,000
images (so the 46-byte header is shared); PNG, JPEG and WebP compress each image into its own
file with Pillow. Quality is PSNR of the mean squared error over all test pixels, and SSIM.
For aekit and PCA the table also shows the size the probability model predicts, and every
codec's compress and decompress throughput (images per second, one process).

    python benchmarks/rd.py runs/q32:0.5,1,2 runs/q16:1 --out rd

Each RUN:STEPS argument is a run folder (trained with --quantize) and the steps to compress
at. Writes rd.csv, rd.json and rd.png into --out and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from aekit.baselines import pca_fit
from aekit.codec.aez import CHECKSUM, HEADER, compress_images, decompress_images, entropy_model_for
from aekit.codec.entropy import decode_symbols, encode_symbols, fit_entropy_model
from aekit.data.files import to_uint8
from aekit.data.idx import load_dataset
from aekit.fileio import atomic_write_text
from aekit.inference import encode
from aekit.metrics import mse, psnr, ssim
from aekit.report.plots import rate_distortion_figure, save_png
from aekit.runs import load_run

JPEG_QUALITIES = (1, 5, 10, 20, 30, 50, 75, 90)
WEBP_QUALITIES = (0, 5, 10, 25, 50, 75, 90)
PCA_COMPONENTS = 300  # the uniform step decides how many carry bits
PCA_STEPS = (0.1, 0.2, 0.4, 0.8, 1.6)
FRAMING_BYTES = HEADER.size + CHECKSUM.size
# The goals: (bytes per image, PSNR dB), each to be reached at or below that size.
GOALS = [(24.0, 22.7), (48.0, 26.0)]


def row(codec, setting, total_bytes, originals, restored, seconds_in, seconds_out, predicted=None):
    n = len(originals)
    error = mse(originals, restored)
    return {
        "codec": codec,
        "setting": setting,
        "bytes_per_image": total_bytes / n,
        "predicted_bytes_per_image": None if predicted is None else predicted / n,
        "psnr": psnr(error),
        "ssim": ssim(originals, restored),
        "compress_per_s": n / seconds_in,
        "decompress_per_s": n / seconds_out,
    }


def aekit_rows(spec: str, test: np.ndarray) -> list[dict]:
    folder, _, steps = spec.partition(":")
    run = load_run(folder)
    codes = encode(run.model, test)  # for the predicted sizes; the same at every step
    rows = []
    for step in [float(s) for s in (steps or "1").split(",")]:
        entropy_model = entropy_model_for(run, Path(folder), step)  # fitted once, outside the timing
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "test.aez"
            started = time.perf_counter()
            path.write_bytes(compress_images(run, entropy_model, test))
            compressed = time.perf_counter()
            restored = decompress_images(run, entropy_model, path.read_bytes())
            finished = time.perf_counter()
            size = path.stat().st_size
        symbols = entropy_model.symbols(codes)
        predicted = entropy_model.bits(symbols) / 8 + FRAMING_BYTES
        name = f"aekit {run.model.config.family}-{run.model.config.latent_dim}"
        rows.append(
            row(
                name,
                f"step {step:g}",
                size,
                test,
                restored,
                compressed - started,
                finished - compressed,
                predicted,
            )
        )
    return rows


def pca_rows(train: np.ndarray, test: np.ndarray) -> list[dict]:
    mean, directions = pca_fit(train, PCA_COMPONENTS)

    def transform(images: np.ndarray) -> np.ndarray:
        return ((images.reshape(len(images), -1) - mean) @ directions.T).astype(np.float32)

    train_codes = transform(train)
    rows = []
    for step in PCA_STEPS:
        entropy_model = fit_entropy_model(train_codes, step)
        started = time.perf_counter()
        symbols = entropy_model.symbols(transform(test))
        payload = encode_symbols(entropy_model, symbols)
        compressed = time.perf_counter()
        codes = entropy_model.codes(decode_symbols(entropy_model, payload, len(test)))
        restored = np.clip(codes @ directions + mean, 0, 1).reshape(test.shape).astype(np.float32)
        finished = time.perf_counter()
        predicted = entropy_model.bits(symbols) / 8 + FRAMING_BYTES
        rows.append(
            row(
                f"PCA-{PCA_COMPONENTS}",
                f"step {step:g}",
                len(payload) + FRAMING_BYTES,
                test,
                restored,
                compressed - started,
                finished - compressed,
                predicted,
            )
        )
    return rows


def pillow_rows(test: np.ndarray) -> list[dict]:
    pixels = to_uint8(test)[..., 0]
    settings = [("PNG", "lossless", {"format": "PNG", "optimize": True, "compress_level": 9})]
    settings += [
        ("JPEG", f"quality {q}", {"format": "JPEG", "quality": q, "optimize": True}) for q in JPEG_QUALITIES
    ]
    settings += [
        ("WebP", f"quality {q}", {"format": "WEBP", "quality": q, "method": 6}) for q in WEBP_QUALITIES
    ]
    rows = []
    for codec, setting, options in settings:
        started = time.perf_counter()
        files = []
        for image in pixels:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, **options)
            files.append(buffer.getvalue())
        compressed = time.perf_counter()
        restored = np.stack([np.asarray(Image.open(io.BytesIO(f)).convert("L")) for f in files])
        finished = time.perf_counter()
        restored = restored[:, None].astype(np.float32) / 255.0
        rows.append(
            row(
                codec,
                setting,
                sum(map(len, files)),
                test,
                restored,
                compressed - started,
                finished - compressed,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="RUN[:STEP,STEP...] run folders trained with --quantize")
    parser.add_argument("--out", type=Path, default=Path("rd"), help="folder for rd.csv, rd.json, rd.png")
    args = parser.parse_args()
    train, test = load_dataset("train").images, load_dataset("test").images
    rows = (
        [r for spec in args.runs for r in aekit_rows(spec, test)] + pca_rows(train, test) + pillow_rows(test)
    )

    print(
        "| codec | setting | bytes/image | predicted | PSNR dB | SSIM | compress img/s | decompress img/s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        predicted = "" if r["predicted_bytes_per_image"] is None else f"{r['predicted_bytes_per_image']:.2f}"
        print(
            f"| {r['codec']} | {r['setting']} | {r['bytes_per_image']:.2f} | {predicted} | {r['psnr']:.2f} | "
            f"{r['ssim']:.3f} | {r['compress_per_s']:,.0f} | {r['decompress_per_s']:,.0f} |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    with io.StringIO() as table:
        writer = csv.DictWriter(table, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(args.out / "rd.csv", table.getvalue())
    # Strict JSON has no infinity: PNG's PSNR (lossless) is written as null.
    finite = [{k: None if isinstance(v, float) and math.isinf(v) else v for k, v in r.items()} for r in rows]
    atomic_write_text(args.out / "rd.json", json.dumps(finite, indent=2) + "\n")
    save_png(rate_distortion_figure(rows, GOALS), args.out / "rd.png")
    print(f"\nwrote rd.csv, rd.json and rd.png to {args.out}")


if __name__ == "__main__":
    main()
