"""The ``aekit`` command: a thin argparse layer over the Python API.

Every user mistake surfaces as one line on stderr and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .datasets import DATASETS, load_dataset
from .errors import AekitError
from .imageio import read_codes, read_images, write_array, write_images
from .inference import decode, encode, reconstruct
from .metrics import mse, psnr
from .models import ModelConfig, build_model, model_families
from .pipeline import train_run
from .runs import load_run, prepare_run_dir
from .summary import summarize
from .train import TrainConfig

EXAMPLES = """\
examples:
  aekit train                         the tutorial: dense 784-300-2, 20 epochs, into runs/
  aekit train --latent-dim 8 --out runs/d8
  aekit summary runs/d8               layer tables of a saved run
  aekit eval runs/d8                  {"mse": ..., "psnr": ..., "n": 10000}
  aekit encode runs/d8 mnist:test -o codes.npy
  aekit decode runs/d8 codes.npy -o decoded/     (a folder of PNGs, or a .npy file)

data: MNIST is read from $AEKIT_DATA_DIR, then ~/.cache/aekit/mnist, else downloaded there.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit 2) rather than a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aekit",
        description="Train image autoencoders, inspect them, and turn images into codes and back.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    defaults = ModelConfig()
    training = TrainConfig()

    train = commands.add_parser(
        "train",
        help="train a model on MNIST and save it as a run folder",
        description="Train an autoencoder on MNIST. The defaults reproduce the tutorial: a dense "
        "784-300-2 network, MSE loss, Adam with learning rate 0.0005, 20 epochs of batch 256. "
        "The folder receives config.json, model.safetensors, metrics.json, reconstructions.png, "
        "latent.png and loss.png.",
    )
    train.add_argument(
        "--model",
        choices=model_families(),
        default=defaults.family,
        help="model family (default: %(default)s)",
    )
    train.add_argument(
        "--latent-dim",
        type=_positive_int,
        default=defaults.latent_dim,
        help="numbers per code (default: %(default)s)",
    )
    train.add_argument(
        "--hidden",
        type=_positive_int,
        default=defaults.hidden,
        help="hidden layer width (default: %(default)s)",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=training.epochs,
        help="passes over the data (default: %(default)s)",
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=training.batch_size,
        help="images per step (default: %(default)s)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=training.lr,
        help="Adam learning rate (default: %(default)s)",
    )
    train.add_argument(
        "--seed",
        type=int,
        default=training.seed,
        help="same seed, same machine: same weights bit for bit (default: %(default)s)",
    )
    train.add_argument(
        "--limit",
        type=_positive_int,
        help="train on the first N training images only, for a quick trial",
    )
    train.add_argument("--out", type=Path, help="run folder (default: a new folder under runs/)")
    train.add_argument("--force", action="store_true", help="reuse an --out folder that already holds files")
    train.set_defaults(handler=_train)

    summary = commands.add_parser(
        "summary",
        help="print the layer tables of a run (or of an untrained model)",
        description="Print the encoder, decoder and autoencoder tables: layers, output shapes, parameters.",
    )
    summary.add_argument(
        "run", nargs="?", type=Path, help="a run folder; omit for the default model, untrained"
    )
    summary.add_argument(
        "--model",
        choices=model_families(),
        default=defaults.family,
        help="family when no RUN is given",
    )
    summary.add_argument(
        "--latent-dim",
        type=_positive_int,
        default=defaults.latent_dim,
        help="code size when no RUN is given",
    )
    summary.add_argument(
        "--hidden",
        type=_positive_int,
        default=defaults.hidden,
        help="hidden width when no RUN is given",
    )
    summary.set_defaults(handler=_summary)

    evaluate = commands.add_parser(
        "eval",
        help="reconstruction error of a run on a dataset split, as JSON",
        description='Print {"mse", "psnr", "n"}: mean squared error per pixel (pixels in [0, 1]), '
        "the PSNR in dB of that mean error, and the number of images.",
    )
    evaluate.add_argument("run", type=Path, help="run folder")
    evaluate.add_argument("--split", choices=["train", "test"], default="test", help="(default: %(default)s)")
    evaluate.set_defaults(handler=_eval)

    enc = commands.add_parser(
        "encode",
        help="turn images into codes (.npy)",
        description="Encode images to an (N, latent_dim) float32 array. INPUT is mnist:train, "
        "mnist:test, a .npy array of images, PNG/JPEG files, or a folder of them.",
    )
    enc.add_argument("run", type=Path, help="run folder")
    enc.add_argument("inputs", nargs="+", metavar="INPUT", help="images to encode")
    enc.add_argument("-o", "--output", type=Path, required=True, help="codes file, *.npy")
    enc.add_argument("--resize", action="store_true", help="convert images of another size or channel count")
    enc.add_argument("--force", action="store_true", help="replace the output if it exists")
    enc.set_defaults(handler=_encode)

    dec = commands.add_parser(
        "decode",
        help="turn codes back into images",
        description="Decode an (N, latent_dim) .npy array of codes - from 'aekit encode' or made up, "
        "such as a grid of points - into images: a .npy file or a folder of PNGs.",
    )
    dec.add_argument("run", type=Path, help="run folder")
    dec.add_argument("codes", type=Path, help="codes, *.npy")
    dec.add_argument("-o", "--output", type=Path, required=True, help="*.npy file or a folder for PNGs")
    dec.add_argument("--force", action="store_true", help="replace the output if it exists")
    dec.set_defaults(handler=_decode)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 training stopped, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage mistake already reported in one line
        return int(exit_.code or 0)
    try:
        return args.handler(args)
    except AekitError as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130


def _train(args: argparse.Namespace) -> int:
    model_config = ModelConfig(family=args.model, latent_dim=args.latent_dim, hidden=args.hidden)
    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    folder = prepare_run_dir(args.out, args.model, args.force)
    print(summarize(build_model(model_config)), end="\n\n")

    def report(record) -> None:
        print(
            f"epoch {record.epoch:>3}/{train_config.epochs}  loss {record.loss:.5f}  "
            f"val_loss {record.val_loss:.5f}  ({record.seconds:.1f}s)",
            flush=True,
        )

    run, stopped = train_run(
        model_config,
        train_config,
        folder,
        limit=args.limit,
        progress=sys.stderr.isatty(),
        on_epoch=report,
    )
    metrics = run.metrics
    print(
        f"val MSE {metrics['val_mse']:.5f} ({metrics['val_psnr']:.2f} dB) after "
        f"{metrics['train_seconds']:.1f}s of training; saved to {folder}"
    )
    if stopped:
        print(f"aekit: training stopped early: {stopped}", file=sys.stderr)
        return 1
    return 0


def _summary(args: argparse.Namespace) -> int:
    if args.run is not None:
        model = load_run(args.run).model
    else:
        model = build_model(ModelConfig(family=args.model, latent_dim=args.latent_dim, hidden=args.hidden))
    print(summarize(model))
    return 0


def _eval(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    data = load_dataset(args.split, DATASETS[run.dataset])
    error = mse(data.images, reconstruct(run.model, data.images))
    print(json.dumps({"mse": error, "psnr": psnr(error), "n": len(data)}))
    return 0


def _encode(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    images = read_images(args.inputs, run.model.config.input_shape, resize=args.resize).images
    codes = encode(run.model, images)
    write_array(codes, args.output, force=args.force)
    print(f"encoded {len(codes):,} images to {args.output} {codes.shape}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    images = decode(run.model, read_codes(args.codes, run.model.config.latent_dim))
    write_images(images, args.output, force=args.force)
    print(f"decoded {len(images):,} codes to {args.output}")
    return 0
