"""``aekit manifold``: decode a grid across the latent plane."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device, add_picture_output, check_picture_output


def add_parser(commands) -> argparse.ArgumentParser:
    manifold = commands.add_parser(
        "manifold",
        help="decode an n x n grid across the latent plane",
        description="Decode an n x n grid spanning the region the test images' codes occupy. For codes "
        "of more than 2 numbers the grid lies in the plane of the codes' two main PCA directions.",
    )
    manifold.add_argument("run", type=Path, help="run folder")
    manifold.add_argument("-n", type=int, default=20, help="grid side, at most 100 (default: %(default)s)")
    add_picture_output(manifold)
    add_device(manifold)
    return manifold


def run(args: argparse.Namespace) -> int:
    from aekit.explore import manifold_images
    from aekit.report.plots import image_grid_figure, save_png
    from aekit.runs import load_run

    check_picture_output(args.output, args.force)
    run_ = load_run(args.run, device=args.device)
    images = manifold_images(run_, args.n)
    title = "Decoded latent grid" + (" (PCA plane of the codes)" if run_.model.config.latent_dim > 2 else "")
    save_png(image_grid_figure(images, args.n, title), args.output)
    print(f"wrote a {args.n}x{args.n} grid to {args.output}")
    return 0
