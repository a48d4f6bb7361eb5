"""``aekit train``: train a model and save it as a run folder."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

from aekit.cli.options import add_device, add_training_options, progress_wanted, training_options

DATASET_NAMES = ("mnist", "fashion-mnist", "kmnist")


def add_parser(commands) -> argparse.ArgumentParser:
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
    train.add_argument("--latent-dim", type=int, help="numbers per code (default: 2; codec: 64)")
    add_training_options(train)
    train.add_argument(
        "--dataset",
        default="mnist",
        metavar="NAME|FOLDER",
        help=f"{', '.join(DATASET_NAMES)}, or a folder of your own PNG/JPEG images (default: %(default)s)",
    )
    train.add_argument(
        "--image-size",
        type=int,
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
        type=float,
        help="folder datasets: share of the images kept for validation (default: 0.1)",
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
        help="continue RUN from its checkpoint with RUN's own settings (only --epochs, to train a "
        "finished run for longer, --device and --report may be added); "
        "training saves a checkpoint every epoch and on Ctrl-C or SIGTERM",
    )
    add_device(train)
    return train


def run(args: argparse.Namespace) -> int:
    from aekit.training.config import make_configs

    if args.resume is None:  # every setting is checked before torch is loaded
        make_configs(args.model, args.latent_dim, **training_options(args))

    from aekit.fileio import exclusive
    from aekit.models import build_model
    from aekit.models.summary import summarize
    from aekit.report.html import write_report
    from aekit.training.callbacks import format_epoch
    from aekit.training.distributed import broadcast_from_first, process_group, resolve_device
    from aekit.training.pipeline import plan_new_run, plan_resume, train_run

    device = resolve_device(args.device)
    with process_group(device) as (rank, _):
        # One writer per run folder: a second 'train --out' or '--resume' of it is refused.
        target = args.resume if args.resume is not None else args.out
        lock = (
            exclusive(target, "run folder") if rank == 0 and target is not None else contextlib.nullcontext()
        )
        with lock:
            if args.resume is not None:
                _refuse_options_resume_ignores(args)
                plan = plan_resume(args.resume, epochs=args.epochs, device=device)
            else:
                plan = plan_new_run(
                    args.model,
                    args.latent_dim,
                    dataset=args.dataset,
                    image_size=args.image_size,
                    channels=args.channels,
                    val_fraction=args.val_fraction,
                    skip_bad=args.skip_bad,
                    stream=args.stream,
                    limit=args.limit,
                    out=args.out,
                    force=args.force,
                    device=device,
                    make_folder=rank == 0,
                    **training_options(args),
                )
                plan.folder = broadcast_from_first(plan.folder)
            folder = plan.folder
            say = print if rank == 0 else _silent
            say(summarize(build_model(plan.model)), end="\n\n")
            try:
                with _stop_on_signals() as stop:
                    result, stopped = train_run(
                        plan,
                        progress=rank == 0 and progress_wanted(),
                        on_epoch=lambda record: say(format_epoch(record, plan.training.epochs), flush=True),
                        should_stop=stop.is_set,
                    )
            except Exception:
                if rank == 0 and folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()  # a failure before anything was written leaves no empty run behind
                raise
    if result is None:
        if rank == 0:
            print(
                f"aekit: {stopped}; the checkpoint is in {folder}: "
                f"continue with 'aekit train --resume {folder}'",
                file=sys.stderr,
            )
        return 128 + stop.signal_number
    metrics = result.metrics
    say(
        f"val MSE {metrics['val_mse']:.5f} ({metrics['val_psnr']:.2f} dB) after "
        f"{metrics['train_seconds']:.1f}s of training; saved to {folder}"
    )
    if metrics.get("pca_val_mse") is not None:
        say(
            f"PCA with {plan.model.latent_dim} components on the same validation images: MSE "
            f"{metrics['pca_val_mse']:.5f} ({metrics['pca_val_psnr']:.2f} dB)"
        )
        if metrics["pca_val_mse"] < metrics["val_mse"]:
            say(pca_wins_hint(plan.model.family, plan.limit))
    if stopped:
        say(f"aekit: training stopped early: {stopped}", file=sys.stderr)
        return 1
    if args.report and rank == 0:
        print(f"wrote {write_report(folder, force=True)}")
    return 0


def pca_wins_hint(family: str, limit: int | None = None) -> str:
    """What to try when PCA reconstructs the validation images better than the trained model."""
    if limit is not None:
        return (
            f"PCA does better than this quick trial (--limit {limit}: the whole dataset's epochs over "
            f"{limit} images); without --limit the model trains on every image"
        )
    if family == "hybrid":
        return "PCA still does better than this run: train it longer (--epochs) or on more images"
    return (
        "PCA does better than this model on these images: for photos and other natural images try "
        "--model hybrid, which starts as PCA and learns corrections on top (README: your own images)"
    )


def _refuse_options_resume_ignores(args: argparse.Namespace) -> None:
    """A resumed run keeps its own settings; an option that would silently do nothing is an error."""
    from aekit.cli.main import build_parser
    from aekit.errors import AekitError

    defaults = vars(build_parser().parse_args(["train"]))
    given = [
        "--" + name.replace("_", "-")
        for name, value in vars(args).items()
        if name not in ("resume", "device", "report", "epochs", "handler") and value != defaults.get(name)
    ]
    if given:
        raise AekitError(
            f"--resume continues {args.resume} with the settings it was started with; drop "
            f"{', '.join(given)} (or start a new run with --out)"
        )


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
