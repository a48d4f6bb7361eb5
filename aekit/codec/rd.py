"""A fair rate-distortion comparison: a run's codec against PCA and the classic image codecs.

Every size is real bytes. aekit and PCA put all images into one stream (one header for all);
PNG, JPEG, WebP and AVIF (Pillow) are measured both ways a user could store the same images:
one file per image, where each file pays its own header, and all images tiled into one mosaic
picture, which shares the header and lets the codec see across image borders. Quality is PSNR
of the mean squared error over all pixels, and mean SSIM; throughput is images per second in
one process.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from aekit.baselines import pca_fit
from aekit.builtin import is_builtin, resolve_run_folder
from aekit.codec.aez import CHECKSUM, ESCAPE, HEADER, code_bits, code_images, decompress_images
from aekit.codec.entropy import decode_symbols, encode_symbols, fit_entropy_model
from aekit.codec.tables import QUALITY_LEVELS, tables_for
from aekit.data.arrays import as_uint8
from aekit.data.files import read_images
from aekit.data.folders import load_split
from aekit.errors import AekitError, check_whole
from aekit.fileio import atomic_write_text, refuse_overwrite
from aekit.metrics import mse, psnr, ssim
from aekit.runs import Run, load_run

# Code steps measured for runs outside the codec family (those have no --quality).
CODE_STEPS = (0.5, 1.0, 2.0, 3.0)
PCA_COMPONENTS = 300  # the uniform step decides how many of them carry bits
PCA_STEPS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
PIL_SETTINGS: dict[str, tuple[str, tuple, Callable[[int], dict]]] = {
    "PNG": ("PNG", ("lossless",), lambda _q: {"optimize": True, "compress_level": 9}),
    "JPEG": ("JPEG", (1, 5, 10, 20, 30, 50, 75, 90), lambda q: {"quality": q, "optimize": True}),
    "WebP": ("WEBP", (0, 5, 10, 25, 50, 75, 90), lambda q: {"quality": q, "method": 6}),
    "AVIF": ("AVIF", (10, 20, 30, 50, 70, 90), lambda q: {"quality": q}),
}
FIELDS = (
    "codec",
    "setting",
    "layout",
    "images",
    "bytes_per_image",
    "predicted_bytes_per_image",
    "psnr",
    "ssim",
    "compress_per_s",
    "decompress_per_s",
)


def _row(codec, setting, layout, size, originals, restored, seconds_in, seconds_out, predicted=None) -> dict:
    n = len(originals)
    return {
        "codec": codec,
        "setting": setting,
        "layout": layout,
        "images": n,
        "bytes_per_image": size / n,
        "predicted_bytes_per_image": None if predicted is None else predicted / n,
        "psnr": psnr(mse(originals, restored)),
        "ssim": ssim(originals, restored),
        "compress_per_s": n / max(seconds_in, 1e-9),
        "decompress_per_s": n / max(seconds_out, 1e-9),
    }


def aekit_rows(run: Run, run_folder: Path, images: np.ndarray) -> list[dict]:
    """The run's codec at every quality (codec family) or at CODE_STEPS, one .aez for all."""
    if run.model.config.family == "codec":
        levels = [(f"quality {q}", *QUALITY_LEVELS[q]) for q in sorted(QUALITY_LEVELS)]
    else:
        levels = [(f"step {s:g}", s, 0) for s in CODE_STEPS]
    name = f"aekit {run.model.config.family}-{run.model.config.latent_dim}"
    rows = []
    for setting, step, residual_step in levels:
        tables = tables_for(run, run_folder, step, residual_step)  # fitted once, outside the timing
        started = time.perf_counter()
        coded = code_images(run, tables, images)
        compressed = time.perf_counter()
        restored = np.clip(decompress_images(run, tables, coded.data), 0, 1)
        finished = time.perf_counter()
        rows.append(
            _row(
                name,
                setting,
                "one file",
                len(coded.data),
                images,
                restored,
                compressed - started,
                finished - compressed,
                coded.predicted_bytes,
            )
        )
    return rows


def pca_rows(train: np.ndarray, images: np.ndarray) -> list[dict]:
    """PCA's code through aekit's coder (per-dimension tables counted on the training codes)."""
    components = min(PCA_COMPONENTS, int(np.prod(images.shape[1:])))
    mean, directions = pca_fit(train, components)

    def transform(batch: np.ndarray) -> np.ndarray:
        return ((batch.reshape(len(batch), -1) - mean) @ directions.T).astype(np.float32)

    train_codes = transform(train)
    framing = HEADER.size + CHECKSUM.size
    rows = []
    for step in PCA_STEPS:
        model = fit_entropy_model(train_codes, step)
        started = time.perf_counter()
        symbols, escapes = model.escaped_symbols(transform(images))
        payload = encode_symbols(model, symbols, escape=True)
        compressed = time.perf_counter()
        rounded = model.unescaped(decode_symbols(model, payload, len(images), escape=True), escapes)
        restored = np.clip((rounded * step) @ directions + mean, 0, 1).reshape(images.shape)
        finished = time.perf_counter()
        predicted = code_bits(model, symbols, escapes) / 8 + framing
        size = len(payload) + ESCAPE.size * len(escapes) + framing
        rows.append(
            _row(
                f"PCA-{components}",
                f"step {step:g}",
                "one file",
                size,
                images,
                restored.astype(np.float32),
                compressed - started,
                finished - compressed,
                predicted,
            )
        )
    return rows


def mosaic(pixels: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W, C) tiled into one (rows*H, cols*W, C) picture, row by row;
    the cells after the last image are black."""
    n, height, width, channels = pixels.shape
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * columns, height, width, channels), dtype=np.uint8)
    grid[:n] = pixels
    return (
        grid.reshape(rows, columns, height, width, channels)
        .swapaxes(1, 2)
        .reshape(rows * height, columns * width, channels)
    )


def unmosaic(picture: np.ndarray, n: int, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`mosaic`: the first ``n`` images (N, H, W, C)."""
    rows, columns = picture.shape[0] // height, picture.shape[1] // width
    cells = picture.reshape(rows, height, columns, width, -1).swapaxes(1, 2)
    return cells.reshape(rows * columns, height, width, -1)[:n]


def _save(picture: np.ndarray, pil_format: str, options: dict) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture[..., 0] if picture.shape[-1] == 1 else picture).save(
        buffer, format=pil_format, **options
    )
    return buffer.getvalue()


def _load(data: bytes, channels: int) -> np.ndarray:
    image = np.asarray(Image.open(io.BytesIO(data)).convert("L" if channels == 1 else "RGB"))
    return image[..., None] if channels == 1 else image


def pillow_rows(images: np.ndarray, per_image_limit: int | None = None) -> list[dict]:
    """PNG, JPEG, WebP and AVIF at their settings, as one mosaic of all ``images`` and as one
    file per image (of the first ``per_image_limit`` images, when given: AVIF manages a few
    hundred small files a second)."""
    channels = images.shape[1]
    if channels not in (1, 3):
        return []
    pixels = as_uint8(images).transpose(0, 2, 3, 1)
    n, height, width, _ = pixels.shape
    few = pixels[:per_image_limit] if per_image_limit else pixels
    rows = []
    for codec, (pil_format, settings, options) in PIL_SETTINGS.items():
        for setting in settings:
            label = setting if isinstance(setting, str) else f"quality {setting}"
            started = time.perf_counter()
            data = _save(mosaic(pixels), pil_format, options(setting))
            compressed = time.perf_counter()
            restored = unmosaic(_load(data, channels), n, height, width)
            finished = time.perf_counter()
            rows.append(
                _row(
                    codec,
                    label,
                    "one mosaic",
                    len(data),
                    images,
                    _floats(restored),
                    compressed - started,
                    finished - compressed,
                )
            )
            started = time.perf_counter()
            files = [_save(image, pil_format, options(setting)) for image in few]
            compressed = time.perf_counter()
            restored = np.stack([_load(f, channels) for f in files])
            finished = time.perf_counter()
            rows.append(
                _row(
                    codec,
                    label,
                    "file per image",
                    sum(map(len, files)),
                    images[: len(few)],
                    _floats(restored),
                    compressed - started,
                    finished - compressed,
                )
            )
    return rows


def _floats(pixels_hwc: np.ndarray) -> np.ndarray:
    return pixels_hwc.transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def rate_distortion(
    run_folder: str | Path,
    inputs="mnist:test",
    *,
    per_image_limit: int | None = None,
    device: str = "cpu",
    force: bool = False,
) -> list[dict]:
    """Measure the run in ``run_folder`` against PCA and Pillow's codecs on ``inputs`` (what
    :func:`aekit.data.files.read_images` takes) and write ``rd.csv``, ``rd.json`` and
    ``rd.png`` into the run folder (replacing earlier ones only with ``force``); returns the
    rows (see :data:`FIELDS`)."""
    from aekit.report.plots import rate_distortion_figure, save_png

    run_folder = resolve_run_folder(run_folder)
    if is_builtin(run_folder):
        raise AekitError(
            f"{run_folder.name} is a built-in model, which aekit never writes to; its figures are in "
            "'aekit models'"
        )
    if per_image_limit is not None:
        check_whole("per_image_limit", per_image_limit)
    for name in ("rd.csv", "rd.json", "rd.png"):
        refuse_overwrite(run_folder / name, force)
    run = load_run(run_folder, device=device)
    images = read_images(inputs, run.model.config.input_shape).images
    train = load_split(run.dataset, "train").images
    rows = (
        aekit_rows(run, run_folder, images) + pca_rows(train, images) + pillow_rows(images, per_image_limit)
    )
    with io.StringIO() as table:
        writer = csv.DictWriter(table, fieldnames=list(FIELDS))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(run_folder / "rd.csv", table.getvalue())
    # Strict JSON has no infinity: a lossless codec's PSNR is written as null.
    finite = [{k: None if isinstance(v, float) and math.isinf(v) else v for k, v in r.items()} for r in rows]
    atomic_write_text(run_folder / "rd.json", json.dumps(finite, indent=2) + "\n")
    save_png(rate_distortion_figure(rows), run_folder / "rd.png")
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| codec | setting | layout | bytes/image | predicted | PSNR dB | SSIM "
        "| compress img/s | decompress img/s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        predicted = r["predicted_bytes_per_image"]
        lines.append(
            f"| {r['codec']} | {r['setting']} | {r['layout']} | {r['bytes_per_image']:.2f} | "
            f"{'' if predicted is None else f'{predicted:.2f}'} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
            f"{r['compress_per_s']:,.0f} | {r['decompress_per_s']:,.0f} |"
        )
    return "\n".join(lines)
