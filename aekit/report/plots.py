"""Figures: reconstructions, the latent scatter, loss curves. Each function returns a Figure;
:func:`save_png` writes one. Uses matplotlib's headless backend, so no display is needed."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from aekit.explore import latent_axes  # noqa: E402
from aekit.fileio import atomic_path  # noqa: E402


class Picture(Figure):
    """A Figure that a notebook shows inline (as PNG) whatever matplotlib's backend, since
    this module draws with the headless one."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


def pick(total: int, count: int, seed: int | None = 0) -> np.ndarray:
    """Indices of ``count`` of ``total`` images: at random with ``seed``, the first with None."""
    count = min(count, total)
    if seed is None:
        return np.arange(count)
    return np.random.default_rng(seed).choice(total, size=count, replace=False)


def reconstructions_figure(originals: np.ndarray, reconstructed: np.ndarray) -> Figure:
    """Originals (top row) above their reconstructions (bottom row); arrays (N, C, H, W)."""
    count = len(originals)
    fig, axes = plt.subplots(2, count, figsize=(1.6 * count, 3.6), squeeze=False, FigureClass=Picture)
    for column in range(count):
        for row, images in enumerate((originals, reconstructed)):
            ax = axes[row, column]
            ax.imshow(_displayable(images[column]), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1, column].set_xlabel(f"#{column + 1}")
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("reconstructed")
    fig.tight_layout()
    return fig


def latent_figure(codes: np.ndarray, labels: np.ndarray | None, title: str = "Latent codes") -> Figure:
    """Scatter of codes coloured by label; codes of more than 2 numbers are PCA-projected."""
    points, axis_names = project_2d(codes)
    # Draw in a fixed random order so no digit is hidden under the ones plotted after it.
    order = np.random.default_rng(0).permutation(len(points))
    points = points[order]
    labels = labels[order] if labels is not None else None
    if codes.shape[1] > 2:
        title += f" ({codes.shape[1]}-D, PCA projection)"
    fig, ax = plt.subplots(figsize=(7, 6), FigureClass=Picture)
    scatter = ax.scatter(
        points[:, 0],
        points[:, 1],
        c=labels if labels is not None else "tab:blue",
        cmap="tab10" if labels is not None else None,
        s=2,
        alpha=0.6,
        vmin=-0.5 if labels is not None else None,
        vmax=9.5 if labels is not None else None,
    )
    if labels is not None:
        fig.colorbar(scatter, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(title)
    fig.tight_layout()
    return fig


def loss_figure(history: list[dict]) -> Figure:
    """Training and validation loss per epoch, log scale."""
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [h["loss"] for h in history], marker="o", label="training")
    validated = [h for h in history if h["val_loss"] is not None]  # every epoch, unless validation_freq
    val_epochs = [h["epoch"] for h in validated]
    ax.plot(val_epochs, [h["val_loss"] for h in validated], marker="o", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def project_2d(codes: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """Codes as 2-D points: as they are for 1-2 numbers, else their two main PCA directions."""
    if codes.shape[1] == 1:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))]), ("code[0]", "")
    if codes.shape[1] == 2:
        return codes, ("code[0]", "code[1]")
    centre, directions = latent_axes(codes)
    return (codes - centre) @ directions.T, ("principal direction 1", "principal direction 2")


def png_bytes(fig: Figure) -> bytes:
    """``fig`` encoded as PNG; the figure is released."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def save_png(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` as a PNG file (atomically) and release it."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(png_bytes(fig))


def _displayable(image_chw: np.ndarray) -> np.ndarray:
    return image_chw[0] if image_chw.shape[0] == 1 else image_chw.transpose(1, 2, 0).clip(0, 1)


def image_grid_figure(images: np.ndarray, columns: int, title: str | None = None) -> Figure:
    """Images (N, C, H, W) tiled edge to edge, ``columns`` per row."""
    rows = -(-len(images) // columns)
    channels, height, width = images.shape[1:]
    canvas = np.ones((rows * height, columns * width, channels), np.float32)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        canvas[row * height : (row + 1) * height, column * width : (column + 1) * width] = image.transpose(
            1, 2, 0
        )
    size = min(12.0, max(3.0, 0.5 * columns))
    fig, ax = plt.subplots(figsize=(size, size * rows * height / (columns * width) + (0.5 if title else 0)))
    ax.imshow(canvas[:, :, 0] if channels == 1 else canvas.clip(0, 1), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def sweep_figure(rows: list[dict], family: str) -> Figure:
    """Test MSE against code size for the autoencoder and for PCA, log-log."""
    dims = [r["latent_dim"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(dims, [r["mse"] for r in rows], marker="o", label=f"aekit {family}")
    ax.plot(dims, [r["pca_mse"] for r in rows], marker="s", label="PCA")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.set_xlabel("numbers per code")
    ax.set_ylabel("test MSE per pixel")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def rate_distortion_figure(rows: list[dict], goals: list[tuple[float, float]] = ()) -> Figure:
    """PSNR against bytes per image, one line per codec and layout (rows carry codec,
    bytes_per_image, psnr and optionally layout: "file per image" is drawn dashed). Lossless
    points (infinite PSNR) become vertical lines; ``goals`` are (bytes, dB) targets drawn as
    stars, to be met up and to the left of."""
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = {}
    for row in rows:
        colours.setdefault(row["codec"], f"C{len(colours) % 10}")
    lines = dict.fromkeys((r["codec"], r.get("layout")) for r in rows)
    for codec, layout in lines:
        mine = [r for r in rows if (r["codec"], r.get("layout")) == (codec, layout)]
        label = f"{codec} ({layout})" if layout else codec
        style = {"color": colours[codec], "linestyle": "--" if layout == "file per image" else "-"}
        finite = sorted((r["bytes_per_image"], r["psnr"]) for r in mine if np.isfinite(r["psnr"]))
        if finite:
            ax.plot(*zip(*finite, strict=True), marker="o", markersize=3, label=label, **style)
        for r in mine:
            if not np.isfinite(r["psnr"]):
                ax.axvline(
                    r["bytes_per_image"], alpha=0.6, linewidth=1, **{**style, "linestyle": ":"},
                    label=f"{label} lossless",
                )  # fmt: skip
    for index, (size, quality) in enumerate(goals):
        ax.plot(
            size,
            quality,
            marker="*",
            markersize=12,
            color="black",
            linestyle="none",
            label="goals" if index == 0 else None,
        )
    ax.set_xscale("log")
    ax.set_xlabel("bytes per image (from the real files)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title("Quality against size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig
