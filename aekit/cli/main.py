"""The ``aekit`` command: a thin argparse shell over the Python API, one module per command.

Every user mistake surfaces as one line on stderr and exit code 2, with nothing written.
Commands import the library only when they run, so ``aekit --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from aekit import __version__
from aekit.cli.options import Parser
from aekit.errors import AekitError, ParameterError

COMMANDS = (
    "train",
    "summary",
    "eval",
    "encode",
    "decode",
    "sample",
    "manifold",
    "interpolate",
    "sweep",
    "compress",
    "decompress",
    "rd",
    "report",
    "export",
    "models",
)

EXAMPLES = """\
examples:
  aekit train                         the tutorial: dense 784-300-2, 20 epochs, into runs/
  aekit train --latent-dim 8 --out runs/d8
  aekit summary runs/d8               layer tables of a saved run
  aekit eval runs/d8                  {"mse": ..., "psnr": ..., "n": 10000}
  aekit encode runs/d8 mnist:test -o codes.npy
  aekit decode runs/d8 codes.npy -o decoded/     (a folder of PNGs, or a .npy file)
  aekit train --model codec --out runs/c          a codec for every quality
  aekit compress runs/c mnist:test -o test.aez --quality 5
  aekit decompress test.aez -o restored/
  aekit rd runs/c                                 every quality against PCA, PNG, JPEG, WebP, AVIF
  aekit export runs/d8 -o onnx/                   encoder.onnx and decoder.onnx, for onnxruntime
  aekit models                                    the built-in models, usable by name:
  aekit compress mnist-codec mnist:test -o t.aez  no training needed
  aekit train --resume runs/c                     continue after Ctrl-C or SIGTERM
  aekit train --resume runs/c --epochs 30         or train a finished run for longer
  torchrun --nproc-per-node 2 -m aekit train ...  several processes (or machines)

data: MNIST is read from $AEKIT_DATA_DIR, then ~/.cache/aekit/mnist, else downloaded there.
In Python: import aekit; aekit.Autoencoder("dense", latent_dim=2).fit(x) (see the README).
"""


def _module(command: str):
    return importlib.import_module(f"aekit.cli.{'evaluate' if command == 'eval' else command}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="aekit",
        description="Train image autoencoders, inspect them, and turn images into codes and back.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    for command in COMMANDS:
        module = _module(command)
        module.add_parser(commands).set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 training stopped, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage mistake already reported in one line
        return int(exit_.code or 0)
    # SIGTERM unwinds like Ctrl-C, so that a command's clean-up (a half-written output's
    # temporary folder) runs; training installs its own handler, which saves a checkpoint.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return args.handler(args)
    except ParameterError as exc:
        print(f"aekit: error: {exc.as_flag()} (see 'aekit {args.command} --help')", file=sys.stderr)
        return 2
    except AekitError as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(_signal_number: int, _frame) -> None:
    raise KeyboardInterrupt
