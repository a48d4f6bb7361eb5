"""A self-contained HTML report of a run, with a live latent-space explorer.

Everything is inside the one file: figures as data-URL PNGs (drawn by the same functions as
the PNG files), and for the explorer the decoder's weights and a sample of test images. The
page loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from aekit.builtin import is_builtin, resolve_run_folder
from aekit.data.files import to_uint8
from aekit.data.folders import load_split
from aekit.errors import AekitError
from aekit.explore import interpolation_strip, latent_axes, manifold_codes, prior_samples
from aekit.fileio import atomic_write_text, read_bytes_limited, refuse_overwrite
from aekit.inference import decode, encode, reconstruct
from aekit.models.vae import VariationalAutoencoder
from aekit.report.decoder_export import export_decoder
from aekit.report.plots import (
    image_grid_figure,
    latent_figure,
    loss_figure,
    png_bytes,
    reconstructions_figure,
)
from aekit.runs import Run, RunFolder, load_run
from aekit.training.config import TrainConfig

EXPLORER_POINTS = 1500  # test images embedded for clicking; about 1.2 MB of 28x28 pixels
MAX_SLIDERS = 8
INTERPOLATION_PAIRS = ((3, 7), (0, 1), (2, 4))
PICTURE_LIMIT = 32 << 20  # an rd.png larger than this is not one aekit drew


def write_report(folder: str | Path, force: bool = False, progress: bool = False) -> Path:
    """Write ``folder/report.html`` for the run saved in ``folder`` (for a built-in model,
    ``NAME-report.html`` in the current folder); returns its path."""
    folder = resolve_run_folder(folder)
    target = Path(f"{folder.name}-report.html") if is_builtin(folder) else RunFolder(folder).report
    refuse_overwrite(target, force)
    run = load_run(folder)
    atomic_write_text(target, build_report(run, folder, progress))
    return target


def build_report(run: Run, folder: Path, progress: bool = False) -> str:
    """The report's HTML for ``run`` (extra figures such as rd.png are taken from ``folder``)."""
    with tqdm(total=4, desc="report", leave=False, disable=not progress) as bar:
        test = load_split(run.dataset, "test")
        bar.update()
        codes = encode(run.model, test.images)
        bar.update()
        sections = [_overview(run, folder), _explorer(run, test.images, test.labels, codes)]
        bar.update()
        sections.append(_figures(run, folder, test.images, test.labels, codes))
        bar.update()
    template = resources.files("aekit.report").joinpath("template.html").read_text()
    script = resources.files("aekit.report").joinpath("explorer.js").read_text()
    return (
        template.replace("{{title}}", html.escape(f"aekit report: {folder.name}"))
        .replace("{{body}}", "\n".join(sections))
        .replace("{{script}}", script)
    )


def _overview(run: Run, folder: Path) -> str:
    config = run.model.config
    metrics = run.metrics
    rows = [
        ("family", config.family),
        ("code size", config.latent_dim),
        ("width (hidden)", config.hidden),
        ("image shape", " x ".join(map(str, config.input_shape))),
        ("dataset", run.dataset),
        ("epochs", metrics.get("epochs", run.training.epochs)),
        ("batch size", run.training.batch_size),
        ("learning rate", _learning_rate(run.training)),
        ("denoising noise", run.training.noise),
        ("test MSE", _number(metrics.get("val_mse"), ".5f")),
        ("test PSNR (dB)", _number(metrics.get("val_psnr"), ".2f")),
        ("PCA, same code size: test PSNR (dB)", _number(metrics.get("pca_val_psnr"), ".2f")),
        ("training time (s)", _number(metrics.get("train_seconds"), ".1f")),
    ]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f'<section><h1>{html.escape(folder.name)}</h1><table class="facts">{cells}</table></section>'


def _learning_rate(training) -> str:
    """'0.006 (cosine, after a warm-up over 5% of the steps; Adam beta2 0.99)' or '0.0005 (constant)'."""
    warmup = f", after a warm-up over {training.lr_warmup:.0%} of the steps" if training.lr_warmup else ""
    usual_beta2 = training.adam_beta2 == TrainConfig.adam_beta2
    beta2 = "" if usual_beta2 else f"; Adam beta2 {training.adam_beta2}"
    return f"{training.lr} ({training.schedule}{warmup}{beta2})"


def _explorer(run: Run, images: np.ndarray, labels: np.ndarray, codes: np.ndarray) -> str:
    dim = run.model.config.latent_dim
    if dim < 2:
        return "<section><h2>Latent explorer</h2><p>Needs codes of at least 2 numbers.</p></section>"
    try:
        operations, weights = export_decoder(run.model.decoder)
    except AekitError as reason:
        return (
            "<section><h2>Latent explorer</h2><p>Not available for this model: "
            f"{html.escape(str(reason))}. The pictures above show its reconstructions.</p></section>"
        )
    centre, axes = latent_axes(codes, 2 + MAX_SLIDERS)
    coords = (codes - centre) @ axes.T
    low, high = np.percentile(coords[:, :2], [0.5, 99.5], axis=0)
    margin = 0.05 * (high - low)
    picks = np.sort(
        np.random.default_rng(0).choice(len(images), size=min(EXPLORER_POINTS, len(images)), replace=False)
    )
    data = {
        "ops": operations,
        "weights": _b64(weights.astype("<f4")),
        "codes": _b64(codes[picks].astype("<f4")),
        "pixels": _b64(to_uint8(images[picks]).transpose(0, 3, 1, 2)),
        "labels": labels[picks].tolist() if labels is not None else [0] * len(picks),
        "indices": picks.tolist(),
        "points": np.round(coords[picks, :2], 4).tolist(),
        "bounds": [
            float(low[0] - margin[0]),
            float(high[0] + margin[0]),
            float(low[1] - margin[1]),
            float(high[1] + margin[1]),
        ],
        "centre": centre.astype(float).tolist(),
        "axes": axes.astype(float).tolist(),
        "imageShape": list(run.model.config.input_shape),
        "latentDim": dim,
    }
    spread = coords.std(axis=0)
    sliders = "".join(
        f'<label>direction {i + 1} <input type="range" min="{-3 * spread[i]:.4f}" max="{3 * spread[i]:.4f}" '
        f'step="{spread[i] / 50:.5f}" value="0"></label>'
        for i in range(2, len(axes))
    )
    plane = (
        "the code plane"
        if dim == 2
        else f"the plane of the two main PCA directions of the {dim}-number codes"
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return f"""<section id="explorer"><h2>Latent explorer</h2>
<p>Each dot is a test image placed by its code ({plane}). Move the pointer over the plot to see what
the decoder makes at that point; click a dot to see that image beside its reconstruction.
{"Sliders move along the next principal directions." if sliders else ""}</p>
<div class="explorer">
<div><canvas id="scatter" width="480" height="480"></canvas><div id="legend"></div></div>
<div><h3>Decoded at the pointer</h3><canvas id="decoded" width="196" height="196"></canvas>
<div id="sliders">{sliders}</div></div>
<div><h3 id="picked">Click a dot</h3>
<figure><canvas id="original" width="140" height="140"></canvas><figcaption>original</figcaption></figure>
<figure><canvas id="reconstruction" width="140" height="140"></canvas>
<figcaption>reconstruction</figcaption></figure>
</div></div>
<script type="application/json" id="aekit-data">{payload}</script></section>"""


def _figures(run: Run, folder: Path, images: np.ndarray, labels: np.ndarray, codes: np.ndarray) -> str:
    figures = []
    history = run.metrics.get("history")
    if history:
        figures.append(("Loss per epoch", loss_figure(history)))
    sample = images[np.random.default_rng(0).choice(len(images), size=min(8, len(images)), replace=False)]
    figures.append(
        (
            "Test images and their reconstructions",
            reconstructions_figure(sample, reconstruct(run.model, sample)),
        )
    )
    figures.append(
        (
            "Codes of the test images",
            latent_figure(codes, labels, title=f"Codes of {len(codes):,} test images"),
        )
    )
    if run.model.config.latent_dim >= 2:
        grid = decode(run.model, manifold_codes(codes, 15))
        figures.append(("Decoded grid over the latent plane", image_grid_figure(grid, 15)))
    pairs = [(a, b) for a, b in INTERPOLATION_PAIRS if max(a, b) < len(images)]  # small image folders
    if pairs:
        strips = np.concatenate([interpolation_strip(run.model, images, a, b, 8) for a, b in pairs])
        figures.append(
            ("Interpolations between test images (originals at the ends)", image_grid_figure(strips, 10))
        )
    if isinstance(run.model, VariationalAutoencoder):
        samples = decode(run.model, prior_samples(64, run.model.config.latent_dim))
        figures.append(("New images sampled from the prior", image_grid_figure(samples, 8)))
    parts = [_img(title, png_bytes(fig)) for title, fig in figures]
    rate_distortion = RunFolder(folder).rate_distortion_plot
    if rate_distortion.is_file():
        picture = read_bytes_limited(rate_distortion, PICTURE_LIMIT, "picture")
        parts.append(_img("Rate and distortion", picture))
    return "<section><h2>Figures</h2>" + "".join(parts) + "</section>"


def _img(title: str, png: bytes) -> str:
    return (
        f'<figure class="plot"><img alt="{html.escape(title)}" src="data:image/png;base64,{_b64(png)}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


def _b64(data) -> str:
    return base64.b64encode(
        data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes()
    ).decode()


def _number(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
