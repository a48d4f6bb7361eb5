"""``aekit encode``: images to codes."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device, add_output, progress_wanted


def add_parser(commands) -> argparse.ArgumentParser:
    enc = commands.add_parser(
        "encode",
        help="turn images into codes (.npy)",
        description="Encode images to an (N, latent_dim) float32 array. INPUT is mnist:train, "
        "mnist:test, a .npy array of images, PNG/JPEG files, or a folder of them (subfolders too). "
        "Image files are prepared exactly as the run's training images were: scaled so the shorter "
        "side fits, centre-cropped, converted to the run's channels.",
    )
    enc.add_argument("run", type=Path, help="run folder")
    enc.add_argument("inputs", nargs="+", metavar="INPUT", help="images to encode")
    add_output(enc, "codes file, *.npy")
    add_device(enc)
    return enc


def run(args: argparse.Namespace) -> int:
    from aekit.data.files import check_array_output, read_images, write_array
    from aekit.inference import encode
    from aekit.runs import load_run

    check_array_output(args.output, args.force)
    model = load_run(args.run, device=args.device).model
    images = read_images(args.inputs, model.config.input_shape).images
    codes = encode(model, images, progress=progress_wanted())
    write_array(codes, args.output, force=args.force)
    print(f"encoded {len(codes):,} images to {args.output} {codes.shape}")
    return 0
