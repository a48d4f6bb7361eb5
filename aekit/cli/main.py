"""The ``aekit`` command: a thin argparse layer over the Python API.

Every user mistake surfaces as one line on stderr and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
from pathlib import Path

from aekit.codec.aez import (
    compress_images,
    decompress_images,
    entropy_model_for,
    find_entropy_model,
    find_run_folder,
    unpack,
)
from aekit.data.files import read_codes, read_images, write_array, write_images
from aekit.data.folders import folder_dataset, load_split
from aekit.data.idx import DATASETS
from aekit.errors import AekitError
from aekit.explore import interpolation_strip, manifold_codes, prior_samples
from aekit.fileio import atomic_write_bytes, refuse_overwrite
from aekit.inference import decode, encode, reconstruct
from aekit.metrics import mse, psnr
from aekit.models import ModelConfig, build_model, model_families
from aekit.models.summary import summarize
from aekit.models.vae import VariationalAutoencoder
from aekit.report.html import write_report
from aekit.report.plots import image_grid_figure, save_png
from aekit.runs import RUNS_ROOT, load_config, load_run, prepare_run_dir
from aekit.training.distributed import broadcast_from_first, process_group, resolve_device
from aekit.training.loop import SCHEDULES, TrainConfig
from aekit.training.pipeline import make_configs, remove_earlier_run, train_run
from aekit.training.precision import PRECISIONS
from aekit.training.sweep import sweep

EXAMPLES = """\
examples:
  aekit train                         the tutorial: dense 784-300-2, 20 epochs, into runs/
  aekit train --latent-dim 8 --out runs/d8
  aekit summary runs/d8               layer tables of a saved run
  aekit eval runs/d8                  {"mse": ..., "psnr": ..., "n": 10000}
  aekit encode runs/d8 mnist:test -o codes.npy
  aekit decode runs/d8 codes.npy -o decoded/     (a folder of PNGs, or a .npy file)
  aekit train --model conv --latent-dim 64 --hidden 24 --quantize --rate-weight 0.01 --out runs/q
  aekit compress runs/q mnist:test -o test.aez    about 19 bytes a digit
  aekit decompress test.aez -o restored/
  aekit train --resume runs/q                     continue after Ctrl-C or SIGTERM
  torchrun --nproc-per-node 2 -m aekit train ...  several processes (or machines)

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


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _size_list(text: str) -> list[int]:
    try:
        return [_positive_int(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected sizes like 2,4,8, got {text!r}") from None


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

    train = commands.add_parser(
        "train",
        help="train a model (on MNIST unless --dataset says otherwise) and save it as a run folder",
        description="Train an autoencoder on MNIST, Fashion-MNIST, KMNIST or a folder of your own "
        "images (--dataset). The defaults reproduce the tutorial: a dense "
        "784-300-2 network, MSE loss, Adam with learning rate 0.0005, 20 epochs of batch 256. "
        "Other families (--model) bring their own best defaults; options given override them. "
        "The folder receives config.json, model.safetensors, metrics.json, reconstructions.png, "
        "latent.png and loss.png, and checkpoint.safetensors after every epoch (see --resume).",
    )
    train.add_argument(
        "--latent-dim",
        type=_positive_int,
        default=defaults.latent_dim,
        help="numbers per code (default: %(default)s)",
    )
    _add_training_options(train)
    train.add_argument(
        "--dataset",
        default="mnist",
        metavar="NAME|FOLDER",
        help=f"{', '.join(DATASETS)}, or a folder of your own PNG/JPEG images (default: %(default)s)",
    )
    train.add_argument(
        "--image-size",
        type=_positive_int,
        help="folder datasets: side of the square images trained on; each image is scaled so its "
        "shorter side fits, then centre-cropped (default: the first image's shorter side)",
    )
    train.add_argument(
        "--channels",
        type=int,
        choices=(1, 3),
        help="folder datasets: 1 gray, 3 RGB (default: the first image's)",
    )
    train.add_argument(
        "--val-fraction",
        type=_positive_float,
        default=0.1,
        help="folder datasets: share of the images kept for validation (default: %(default)s)",
    )
    train.add_argument(
        "--skip-bad",
        action="store_true",
        help="folder datasets: warn about and skip unreadable or non-image files instead of stopping",
    )
    train.add_argument(
        "--stream",
        action="store_true",
        help="folder datasets: read images from disk with worker processes while training, instead of "
        "loading them into memory first (automatic when they would not fit)",
    )
    train.add_argument("--out", type=Path, help="run folder (default: a new folder under runs/)")
    train.add_argument(
        "--force",
        action="store_true",
        help="reuse an --out folder that already holds files; an earlier run's files there are "
        "removed first (other files stay)",
    )
    train.add_argument("--report", action="store_true", help="also write report.html into the run folder")
    train.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue RUN from its checkpoint with RUN's own settings (only --device and --report "
        "may be added); "
        "training saves a checkpoint every epoch and on Ctrl-C or SIGTERM",
    )
    _add_device(train)
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
        help="width when no RUN is given (default: the family's)",
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
    _add_device(evaluate)
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
    _add_device(enc)
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
    _add_device(dec)
    dec.set_defaults(handler=_decode)

    sample = commands.add_parser(
        "sample",
        help="generate new images from a VAE run",
        description="Draw codes from the VAE's N(0, I) prior and decode them into a grid of new images.",
    )
    sample.add_argument("run", type=Path, help="a run trained with --model vae")
    sample.add_argument("-n", type=_positive_int, default=64, help="how many images (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    _add_png_output(sample)
    _add_device(sample)
    sample.set_defaults(handler=_sample)

    manifold = commands.add_parser(
        "manifold",
        help="decode an n x n grid across the latent plane",
        description="Decode an n x n grid spanning the region the test images' codes occupy. For codes "
        "of more than 2 numbers the grid lies in the plane of the codes' two main PCA directions.",
    )
    manifold.add_argument("run", type=Path, help="run folder")
    manifold.add_argument("-n", type=_positive_int, default=20, help="grid side (default: %(default)s)")
    _add_png_output(manifold)
    _add_device(manifold)
    manifold.set_defaults(handler=_manifold)

    interpolate = commands.add_parser(
        "interpolate",
        help="decode the straight line between two test images' codes",
        description="Encode two test images, decode evenly spaced codes on the line between them, "
        "and show them between the two originals.",
    )
    interpolate.add_argument("run", type=Path, help="run folder")
    interpolate.add_argument("--pair", required=True, metavar="I,J", help="two test-image indices, e.g. 3,7")
    interpolate.add_argument(
        "--steps", type=_positive_int, default=10, help="codes on the line (default: %(default)s)"
    )
    _add_png_output(interpolate)
    _add_device(interpolate)
    interpolate.set_defaults(handler=_interpolate)

    sweeper = commands.add_parser(
        "sweep",
        help="train one model per code size and compare with PCA",
        description="Train --model at each of --latent-dims; write sweep.csv, sweep.json and sweep.png "
        "(test MSE against code size, with PCA at the same sizes) into --out, one run folder per size.",
    )
    sweeper.add_argument(
        "--latent-dims",
        type=_size_list,
        default=[2, 4, 8, 16, 32, 64],
        help="comma-separated code sizes (default: 2,4,8,16,32,64)",
    )
    _add_training_options(sweeper)
    sweeper.add_argument("--out", type=Path, help="folder (default: a new folder under runs/)")
    sweeper.add_argument(
        "--force", action="store_true", help="reuse an --out folder that already holds files"
    )
    sweeper.set_defaults(handler=_sweep)

    compress = commands.add_parser(
        "compress",
        help="compress images into one .aez file with a run's encoder and entropy coder",
        description="Encode images, round the codes to multiples of --step and entropy-code them "
        "into one .aez file (format: docs/aez-format.md). The first use of a step fits that "
        "step's probability tables on the run's training set and keeps them in RUN/entropy/, "
        "where decompress finds them. Runs trained with --quantize expect --step 1.",
    )
    compress.add_argument("run", type=Path, help="run folder")
    compress.add_argument("inputs", nargs="+", help="mnist:test, a .npy array, image files or a folder")
    compress.add_argument("-o", "--output", type=Path, required=True, help="the .aez file to write")
    compress.add_argument(
        "--step",
        type=_positive_float,
        default=1.0,
        help="quantisation step in code units: larger means smaller files and lower quality (default: 1)",
    )
    compress.add_argument("--resize", action="store_true", help="resize images to the model's input size")
    compress.add_argument("--force", action="store_true", help="replace the output if it exists")
    _add_device(compress)
    compress.set_defaults(handler=_compress)

    decompress = commands.add_parser(
        "decompress",
        help="decode an .aez file back to images",
        description="Decode an .aez file to a .npy array or a folder of PNGs. The run that made "
        "the file is found by the model fingerprint in the file, among the folders in runs/, "
        "unless --run names it.",
    )
    decompress.add_argument("file", type=Path, help="the .aez file")
    decompress.add_argument(
        "-o", "--output", type=Path, required=True, help="a .npy file or a folder for PNGs"
    )
    decompress.add_argument("--run", type=Path, help="the run folder that compressed the file")
    decompress.add_argument("--force", action="store_true", help="replace the output if it exists")
    _add_device(decompress)
    decompress.set_defaults(handler=_decompress)

    report = commands.add_parser(
        "report",
        help="write RUN/report.html: figures and a live latent explorer, in one offline file",
        description="Write RUN/report.html: the run's settings and metrics, loss curves, reconstructions, "
        "the latent scatter, the decoded grid, interpolations, samples (VAE) and the rate-distortion plot "
        "if the run has one, plus a live explorer that decodes wherever the pointer is. The page is one "
        "self-contained file that works offline.",
    )
    report.add_argument("run", type=Path, help="run folder")
    report.add_argument("--force", action="store_true", help="replace an existing report.html")
    report.set_defaults(handler=_report)
    return parser


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "cuda", "auto"),
        help="where the network runs; auto picks CUDA when present (default: %(default)s)",
    )


def _load_run(args: argparse.Namespace, folder: Path | None = None):
    """The run named on the command line, its model on ``--device``."""
    run = load_run(args.run if folder is None else folder)
    run.model.to(resolve_device(args.device))
    return run


def _add_png_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, required=True, help="PNG file")
    parser.add_argument("--force", action="store_true", help="replace the output if it exists")


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by train and sweep. Unset ones fall back to the family's recipe."""
    tutorial = TrainConfig()
    add = parser.add_argument
    add("--model", choices=model_families(), default="dense", help="model family (default: %(default)s)")
    add(
        "--hidden",
        type=_positive_int,
        help="width: the dense layer (dense: 300), the first layer (deep: 1000), "
        "the first conv channels (conv, vae: 32)",
    )
    add("--epochs", type=_positive_int, help=f"passes over the data (tutorial: {tutorial.epochs})")
    add("--batch-size", type=_positive_int, help=f"images per step (tutorial: {tutorial.batch_size})")
    add("--lr", type=_positive_float, help=f"Adam learning rate (tutorial: {tutorial.lr})")
    add("--schedule", choices=SCHEDULES, help="learning-rate schedule (tutorial: constant)")
    add(
        "--noise",
        type=_non_negative_float,
        help="denoising: train on inputs with Gaussian noise of this std, judge on clean ones",
    )
    add("--kl-weight", type=_non_negative_float, help="weight of the KL term, vae only (default: 1)")
    add(
        "--quantize",
        action="store_true",
        help="train for compression: the decoder learns to work from codes rounded to a step of 1",
    )
    add(
        "--rate-weight",
        type=_non_negative_float,
        help="with --quantize: how much smaller files matter against quality (default: 0; try 0.01-0.3)",
    )
    add(
        "--precision",
        choices=list(PRECISIONS),
        help="bfloat16: matrix products in half the bits, faster on CPUs with bfloat16 instructions "
        "(AVX512-BF16, AMX; the tutorial trained 1.4x to 1.7x faster on such a CPU), slower elsewhere; "
        "weights and reported errors stay float32 (default: float32)",
    )
    add("--seed", type=int, help="same seed, same machine: same weights bit for bit (default: 0)")
    add("--limit", type=_positive_int, help="train on the first N training images only, for a quick trial")


def _training_overrides(args: argparse.Namespace) -> dict:
    names = (
        "hidden",
        "epochs",
        "batch_size",
        "lr",
        "schedule",
        "noise",
        "kl_weight",
        "quantize",
        "rate_weight",
        "precision",
        "seed",
    )
    return {name: getattr(args, name) for name in names}


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
    device = resolve_device(args.device)
    with process_group(device) as (rank, _):
        if args.resume is not None:
            folder = args.resume
            _refuse_options_resume_ignores(args)
            model_config, train_config, dataset, limit = load_config(folder)
            train_config.device = device
        else:
            overrides = {**_training_overrides(args), "device": device}
            model_config, train_config = make_configs(args.model, args.latent_dim, **overrides)
            train_config.validate()
            dataset, shape = _training_data(args)
            model_config = dataclasses.replace(model_config, input_shape=shape)
            limit = args.limit
            folder = broadcast_from_first(_new_run_folder(args) if rank == 0 else None)
        say = print if rank == 0 else _silent
        say(summarize(build_model(model_config)), end="\n\n")

        def report(record) -> None:
            say(
                f"epoch {record.epoch:>3}/{train_config.epochs}  loss {record.loss:.5f}  "
                f"val_loss {record.val_loss:.5f}  ({record.seconds:.1f}s)",
                flush=True,
            )

        try:
            with _stop_on_signals() as stop:
                run, stopped = train_run(
                    model_config,
                    train_config,
                    folder,
                    dataset=dataset,
                    limit=limit,
                    progress=rank == 0 and sys.stderr.isatty(),
                    on_epoch=report,
                    resume=args.resume is not None,
                    should_stop=stop.is_set,
                )
        except AekitError:
            if rank == 0 and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a failure before anything was written leaves no empty run behind
            raise
    if run is None:
        if rank == 0:
            print(
                f"aekit: {stopped}; the checkpoint is in {folder}: "
                f"continue with 'aekit train --resume {folder}'",
                file=sys.stderr,
            )
        return 128 + stop.signal_number
    metrics = run.metrics
    say(
        f"val MSE {metrics['val_mse']:.5f} ({metrics['val_psnr']:.2f} dB) after "
        f"{metrics['train_seconds']:.1f}s of training; saved to {folder}"
    )
    if stopped:
        say(f"aekit: training stopped early: {stopped}", file=sys.stderr)
        return 1
    if args.report and rank == 0:
        print(f"wrote {write_report(folder, force=True)}")
    return 0


def _new_run_folder(args: argparse.Namespace) -> Path:
    """The folder ``train`` writes to; ``--force`` removes an earlier run's files there first."""
    folder = prepare_run_dir(args.out, args.model, args.force)
    if args.force:
        remove_earlier_run(folder)
    return folder


def _refuse_options_resume_ignores(args: argparse.Namespace) -> None:
    """A resumed run keeps its own settings; an option that would silently do nothing is an error."""
    defaults = vars(build_parser().parse_args(["train"]))
    given = [
        "--" + name.replace("_", "-")
        for name, value in vars(args).items()
        if name not in ("resume", "device", "report") and value != defaults.get(name)
    ]
    if given:
        raise AekitError(
            f"--resume continues {args.resume} with the settings it was started with; drop "
            f"{', '.join(given)} (or start a new run with --out)"
        )


def _training_data(args: argparse.Namespace) -> tuple[str | dict, tuple[int, int, int]]:
    """What ``--dataset`` names, as config.json records it, and the image shape it gives."""
    if args.dataset in DATASETS:
        if args.image_size or args.channels or args.skip_bad or args.stream:
            raise AekitError(
                "--image-size, --channels, --skip-bad and --stream apply to image folders, not to "
                + args.dataset
            )
        return args.dataset, (1, 28, 28)
    if not Path(args.dataset).exists():
        raise AekitError(f"--dataset {args.dataset}: no such folder, and not one of {', '.join(DATASETS)}")
    spec = folder_dataset(
        Path(args.dataset).resolve(),
        args.image_size,
        args.channels,
        args.val_fraction,
        args.skip_bad,
        stream=True if args.stream else None,
    )
    return spec.to_dict(), spec.shape


def _silent(*_args, **_kwargs) -> None:
    pass


class _StopRequest:
    """Set by SIGTERM or Ctrl-C while training; remembers which signal asked."""

    def __init__(self) -> None:
        self.signal_number = 0

    def is_set(self) -> bool:
        return self.signal_number != 0

    def handle(self, signal_number: int, _frame) -> None:
        self.signal_number = signal_number


@contextlib.contextmanager
def _stop_on_signals():
    """Turn SIGTERM and SIGINT into a request that training honours after its current batch
    (saving a checkpoint), instead of killing the process mid-write."""
    request = _StopRequest()
    previous = {sig: signal.signal(sig, request.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _summary(args: argparse.Namespace) -> int:
    if args.run is not None:
        model = load_run(args.run).model
    else:
        model = build_model(make_configs(args.model, args.latent_dim, hidden=args.hidden)[0])
    print(summarize(model))
    return 0


def _eval(args: argparse.Namespace) -> int:
    run = _load_run(args)
    data = load_split(run.dataset, args.split)
    error = mse(data.images, reconstruct(run.model, data.images))
    print(json.dumps({"mse": error, "psnr": psnr(error), "n": len(data)}))
    return 0


def _encode(args: argparse.Namespace) -> int:
    run = _load_run(args)
    images = read_images(args.inputs, run.model.config.input_shape, resize=args.resize).images
    codes = encode(run.model, images)
    write_array(codes, args.output, force=args.force)
    print(f"encoded {len(codes):,} images to {args.output} {codes.shape}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    run = _load_run(args)
    images = decode(run.model, read_codes(args.codes, run.model.config.latent_dim))
    write_images(images, args.output, force=args.force)
    print(f"decoded {len(images):,} codes to {args.output}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    run = _load_run(args)
    if not isinstance(run.model, VariationalAutoencoder):
        raise AekitError(
            f"{args.run} is a {run.model.config.family} run; sample needs one trained with --model vae"
        )
    refuse_overwrite(args.output, args.force)
    images = decode(run.model, prior_samples(args.n, run.model.config.latent_dim, args.seed))
    save_png(image_grid_figure(images, max(1, round(args.n**0.5))), args.output)
    print(f"wrote {args.n} samples to {args.output}")
    return 0


def _manifold(args: argparse.Namespace) -> int:
    run = _load_run(args)
    test = load_split(run.dataset, "test")
    images = decode(run.model, manifold_codes(encode(run.model, test.images), args.n))
    refuse_overwrite(args.output, args.force)
    title = "Decoded latent grid" + (" (PCA plane of the codes)" if run.model.config.latent_dim > 2 else "")
    save_png(image_grid_figure(images, args.n, title), args.output)
    print(f"wrote a {args.n}x{args.n} grid to {args.output}")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    run = _load_run(args)
    test = load_split(run.dataset, "test")
    try:
        first, second = (int(part) for part in args.pair.split(","))
    except ValueError:
        raise AekitError(f"--pair takes two test-image indices like 3,7 (got {args.pair!r})") from None
    strip = interpolation_strip(run.model, test.images, first, second, args.steps)
    refuse_overwrite(args.output, args.force)
    title = f"test #{first} (left) to #{second} (right); originals at the ends"
    save_png(image_grid_figure(strip, len(strip), title), args.output)
    print(f"wrote {args.steps} interpolated images to {args.output}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    overrides = _training_overrides(args)
    for dim in args.latent_dims:  # fail on bad settings before anything trains
        make_configs(args.model, dim, **overrides)[1].validate()
    folder = prepare_run_dir(args.out, f"sweep-{args.model}", args.force)

    def report(row: dict) -> None:
        print(
            f"latent {row['latent_dim']:>3}  mse {row['mse']:.5f}  pca {row['pca_mse']:.5f}  "
            f"({row['train_seconds']:.0f}s)",
            flush=True,
        )

    progress = sys.stderr.isatty()
    sweep(
        args.model,
        args.latent_dims,
        folder,
        limit=args.limit,
        progress=progress,
        on_result=report,
        **overrides,
    )
    print(f"wrote sweep.csv, sweep.json and sweep.png to {folder}")
    return 0


def _compress(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".aez":
        raise AekitError(f"{args.output}: compressed files are named *.aez")
    refuse_overwrite(args.output, args.force)
    run = _load_run(args)
    images = read_images(args.inputs, run.model.config.input_shape, resize=args.resize).images
    entropy_model = entropy_model_for(run, args.run, args.step)
    data = compress_images(run, entropy_model, images)
    atomic_write_bytes(args.output, data)
    print(
        f"compressed {len(images):,} images to {args.output}: "
        f"{len(data):,} bytes, {len(data) / len(images):.1f} per image"
    )
    return 0


def _decompress(args: argparse.Namespace) -> int:
    refuse_overwrite(args.output, args.force)
    if not args.file.is_file():
        raise AekitError(f"{args.file} does not exist; check the path")
    data = args.file.read_bytes()
    header, _ = unpack(data, str(args.file))
    folder = args.run or find_run_folder(header.fingerprint, RUNS_ROOT)
    if folder is None:
        raise AekitError(
            f"{args.file} was made by a run not found under {RUNS_ROOT}/; pass the run folder with --run"
        )
    run = _load_run(args, folder)
    entropy_model = find_entropy_model(run, folder, header.fingerprint)
    if entropy_model is None:
        raise AekitError(
            f"{args.file} was made with another model than {folder}; pass the right run with --run"
        )
    images = decompress_images(run, entropy_model, data, str(args.file))
    write_images(images, args.output, force=args.force)
    print(f"decompressed {len(images):,} images to {args.output}")
    return 0


def _report(args: argparse.Namespace) -> int:
    path = write_report(args.run, force=args.force)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
