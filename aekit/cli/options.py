"""Pieces every command's parser shares. Nothing heavy is imported here: ``--help`` and
usage errors answer before torch is loaded. Values are checked once, by the library
(:class:`aekit.training.config.TrainConfig` and friends); argparse only converts types."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.models.config import UPSAMPLING
from aekit.models.recipes import DEFAULT_TRAIN_SIZE, family_recipe, model_families
from aekit.training.config import AUTO, PRECISIONS, SCHEDULES, TrainConfig, epochs_for_steps

# What matplotlib can write for the picture commands' -o.
PICTURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit 2) rather than a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_device(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    parser.add_argument(
        "--device",
        default=default,
        choices=("cpu", "cuda", "auto"),
        help="where the network runs; auto picks a CUDA GPU when PyTorch sees one (default: %(default)s)",
    )


def add_output(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-o", "--output", type=Path, required=True, help=what)
    parser.add_argument("--force", action="store_true", help="replace the output if it exists")


def add_picture_output(parser: argparse.ArgumentParser) -> None:
    add_output(parser, f"picture file ({', '.join(PICTURE_SUFFIXES)})")


def check_picture_output(path: Path, force: bool) -> None:
    """Refuse, before any work, an output that exists or whose suffix cannot be written."""
    from aekit.errors import ParameterError
    from aekit.fileio import refuse_overwrite

    if path.suffix.lower() not in PICTURE_SUFFIXES:
        raise ParameterError(
            "output", str(path), f"name a picture file ending in {', '.join(PICTURE_SUFFIXES)}"
        )
    refuse_overwrite(path, force)


TRAINING_OPTIONS = (
    "hidden",
    "upsample",
    "epochs",
    "batch_size",
    "lr",
    "schedule",
    "lr_warmup",
    "adam_beta2",
    "noise",
    "kl_weight",
    "quantize",
    "rate_weight",
    "precision",
    "augment",
    "seed",
)


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by train and sweep. Unset ones fall back to the family's recipe."""
    tutorial = TrainConfig()
    add = parser.add_argument
    add("--model", choices=model_families(), default="dense", help="model family (default: %(default)s)")
    add(
        "--hidden",
        type=int,
        help="width: the dense layer (dense), the first of deep's three, or the first conv "
        f"stage's channels (default: {recipe_defaults('hidden', None)})",
    )
    add(
        "--upsample",
        choices=UPSAMPLING,
        help="how conv decoders enlarge their feature maps: transposed (stride-2 transposed "
        "convolutions) or resize (nearest resizing, then a convolution: no checkerboard, 4x those "
        f"layers' multiplications) (default: {recipe_defaults('upsample', 'transposed')})",
    )
    add(
        "--epochs",
        type=int,
        help=f"passes over the data ({_recipe_epochs()})",
    )
    add("--batch-size", type=int, help=f"images per step (default: {training_defaults('batch_size')})")
    add("--lr", type=float, help=f"Adam learning rate (default: {training_defaults('lr')})")
    add(
        "--schedule",
        choices=SCHEDULES,
        help=f"learning-rate schedule (default: {training_defaults('schedule')})",
    )
    add(
        "--lr-warmup",
        type=float,
        metavar="FRACTION",
        help="climb linearly to --lr over this fraction of the steps first, e.g. 0.05 "
        f"(default: {training_defaults('lr_warmup')})",
    )
    add(
        "--adam-beta2",
        type=float,
        metavar="BETA2",
        help="how slowly Adam's gradient-size estimate forgets, below 1 "
        f"(default: {training_defaults('adam_beta2')})",
    )
    add(
        "--noise",
        type=float,
        help="denoising: train on inputs with Gaussian noise of this std, judge on clean ones",
    )
    add("--kl-weight", type=float, help=f"weight of the KL term, vae only (default: {tutorial.kl_weight})")
    add(
        "--quantize",
        action="store_true",
        default=None,
        help="train for compression: the decoder learns to work from codes rounded to a step of 1 "
        f"(default: {training_defaults('quantize')})",
    )
    add(
        "--rate-weight",
        type=float,
        help="with --quantize: how much smaller files matter against quality, e.g. 0.01-0.3 "
        f"(default: {training_defaults('rate_weight')})",
    )
    add(
        "--precision",
        choices=(*PRECISIONS, AUTO),
        help="bfloat16: matrix products in half the bits, faster on CPUs with bfloat16 instructions "
        "(AVX512-BF16, AMX; the tutorial trained 1.4x to 1.7x faster on such a CPU), slower elsewhere; "
        "weights and reported errors stay float32. auto: bfloat16 where the hardware has it, else "
        f"float32 (default: {training_defaults('precision')})",
    )
    add(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="flip, turn and zoom into each batch at random, for photos and other images with no 'up' "
        f"(default: {training_defaults('augment')})",
    )
    add("--seed", type=int, help="same seed, same machine: same weights bit for bit (default: 0)")
    add(
        "--limit",
        type=int,
        help="train on the first N training images only, for a quick trial (for as many epochs as "
        "the whole dataset would get, so fewer steps)",
    )


def recipe_defaults(name: str, fallback: object) -> str:
    """Each family's default for ``name`` from the recipes, ``fallback`` where a recipe is
    silent: '0.006 for conv, 0.002 for codec, deep and vae, 0.0005 for the others'."""
    families: dict[object, list[str]] = {}
    for family in model_families():
        families.setdefault(family_recipe(family).get(name, fallback), []).append(family)

    def shown(value: object) -> str:
        return ("on" if value else "off") if isinstance(value, bool) else str(value)

    groups = sorted(families.items(), key=lambda group: len(group[1]))
    if len(groups) == 1:
        return shown(groups[0][0])
    parts = [f"{shown(value)} for {_joined(names)}" for value, names in groups[:-1]]
    return ", ".join([*parts, f"{shown(groups[-1][0])} for the others"])


def training_defaults(name: str) -> str:
    """:func:`recipe_defaults` of a training option, the tutorial's value where a recipe is silent."""
    return recipe_defaults(name, getattr(TrainConfig, name))


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _recipe_epochs() -> str:
    """Each family's epochs, from the recipes: 'dense: 20, deep: 60, ...; conv: as many as make
    3,752 steps (8 on MNIST), ...'."""
    counted, stepped = [], []
    for family in model_families():
        recipe = family_recipe(family)
        if "steps" in recipe:
            batch_size = recipe.get("batch_size", TrainConfig.batch_size)
            mnist = epochs_for_steps(recipe["steps"], DEFAULT_TRAIN_SIZE, batch_size)
            stepped.append(f"{family}: as many as make {recipe['steps']:,} steps ({mnist} on MNIST)")
        else:
            counted.append(f"{family}: {recipe.get('epochs', TrainConfig.epochs)}")
    return "; ".join([", ".join(counted), *stepped])


def training_options(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in TRAINING_OPTIONS}


def progress_wanted() -> bool:
    import sys

    return sys.stderr.isatty()
