"""``aekit export``: a run's encoder and decoder as ONNX files."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli.options import add_output


def add_parser(commands) -> argparse.ArgumentParser:
    export = commands.add_parser(
        "export",
        help="write the encoder and decoder as ONNX files",
        description="Write encoder.onnx (images -> codes) and decoder.onnx (codes -> images) into "
        "a new folder, with a dynamic batch dimension, and model.json describing both (input and "
        "output names, shapes, NCHW layout, float32 pixels in [0, 1]). Run them with onnxruntime "
        "anywhere, without Python or PyTorch. Needs the onnx extra: pip install 'aekit[onnx]'. "
        "For codec runs the networks are exported; entropy coding stays in aekit.",
    )
    export.add_argument("run", type=Path, help="run folder")
    add_output(export, "a new folder for the two .onnx files and model.json")
    return export


def run(args: argparse.Namespace) -> int:
    from aekit.models.onnx import export_onnx
    from aekit.runs import load_run

    model = load_run(args.run, device="cpu").model
    folder = export_onnx(model, args.output, force=args.force)
    print(f"exported {model.config.family} encoder and decoder to {folder}/")
    return 0
