"""``aekit decode``: codes back to images."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device, add_output, progress_wanted


def add_parser(commands) -> argparse.ArgumentParser:
    dec = commands.add_parser(
        "decode",
        help="turn codes back into images",
        description="Decode an (N, latent_dim) .npy array of codes - from 'aekit encode' or made up, "
        "such as a grid of points - into images: a .npy file (which 'aekit encode' reads back) or a "
        "folder of PNGs.",
    )
    dec.add_argument("run", type=Path, help="run folder")
    dec.add_argument("codes", type=Path, help="codes, *.npy")
    add_output(dec, "*.npy file or a folder for PNGs")
    add_device(dec)
    return dec


def run(args: argparse.Namespace) -> int:
    from aekit.data.files import check_images_output, read_codes, write_images
    from aekit.inference import decode
    from aekit.runs import load_run

    check_images_output(args.output, args.force)
    model = load_run(args.run, device=args.device).model
    images = decode(model, read_codes(args.codes, model.config.latent_dim), progress=progress_wanted())
    write_images(images, args.output, force=args.force)
    print(f"decoded {len(images):,} codes to {args.output}")
    return 0
