"""``aekit interpolate``: decode the line between two test images' codes."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_device, add_picture_output, check_picture_output


def add_parser(commands) -> argparse.ArgumentParser:
    interpolate = commands.add_parser(
        "interpolate",
        help="decode the straight line between two test images' codes",
        description="Encode two test images, decode evenly spaced codes on the line between them, "
        "and show them between the two originals.",
    )
    interpolate.add_argument("run", type=Path, help="run folder")
    interpolate.add_argument("--pair", required=True, metavar="I,J", help="two test-image indices, e.g. 3,7")
    interpolate.add_argument(
        "--steps", type=int, default=10, help="codes on the line, at most 1000 (default: %(default)s)"
    )
    add_picture_output(interpolate)
    add_device(interpolate)
    return interpolate


def run(args: argparse.Namespace) -> int:
    from aekit.data.folders import load_split
    from aekit.errors import ParameterError
    from aekit.explore import interpolation_strip
    from aekit.report.plots import image_grid_figure, save_png
    from aekit.runs import load_run

    check_picture_output(args.output, args.force)
    try:
        first, second = (int(part) for part in args.pair.split(","))
    except ValueError:
        raise ParameterError("pair", args.pair, "takes two test-image indices like 3,7") from None
    run_ = load_run(args.run, device=args.device)
    test = load_split(run_.dataset, "test")
    strip = interpolation_strip(run_.model, test.images, first, second, args.steps)
    title = f"test #{first} (left) to #{second} (right); originals at the ends"
    save_png(image_grid_figure(strip, len(strip), title), args.output)
    print(f"wrote {args.steps} interpolated images to {args.output}")
    return 0
