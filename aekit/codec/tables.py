"""A run's probability tables: what each quality level codes with, where it is kept, how it is fitted.

Tables belong to the run, never to a file (a file names them by fingerprint). Each is fitted
on the run's training images the first time a step or quality asks for it and kept in
``RUN/entropy/<fingerprint>.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit.builtin import builtin_folders, is_builtin
from aekit.codec import residual as residual_layer
from aekit.codec.entropy import EntropyModel, fit_entropy_model
from aekit.codec.exact import integer_network, to_pixel_levels
from aekit.data.arrays import as_uint8
from aekit.data.files import load_npy
from aekit.data.folders import load_split
from aekit.errors import AekitError, ParameterError
from aekit.fileio import atomic_write_text, read_bytes_limited
from aekit.inference import decode, encode
from aekit.models import Autoencoder
from aekit.models.exact import integer_decoder
from aekit.runs import Run, RunFolder
from aekit.training.checkpoints import tensor_digest

FINGERPRINT_BYTES = 16
# An entropy table file larger than this is not one aekit wrote.
TABLE_LIMIT = 64 << 20
# The residual layer's tables are counted on at most this many training images.
RESIDUAL_FIT_IMAGES = 20_000

# --quality: (step of the code, step of the residual layer in pixel levels; 0 = none) for runs
# of the codec family. 1-3 code the code alone, coarser to finer; from 4 the residual layer
# adds detail, 12 is lossless. Measured on MNIST's test set with the default codec run (bytes
# per image, PSNR): 13.2 B 24.6 dB, 16.1 B 26.0 dB, 19.1 B 26.9 dB, then 27.3 B 29.5 dB,
# 34.2 B 32.0 dB, 41.4 B 34.6 dB, 48.4 B 37.0 dB, 55.2 B 39.2 dB, 65.6 B 42.4 dB, 85.2 B 47.7 dB,
# 108 B 52.4 dB, 166 B lossless. A coarser code under the residual (step 1.4 or 2) saved
# under 3% of the bytes at the same PSNR; one step keeps the ladder simple.
QUALITY_LEVELS = {
    1: (2.0, 0),
    2: (1.4, 0),
    3: (1.0, 0),
    4: (1.0, 96),
    5: (1.0, 64),
    6: (1.0, 44),
    7: (1.0, 32),
    8: (1.0, 24),
    9: (1.0, 16),
    10: (1.0, 8),
    11: (1.0, 4),
    12: (1.0, 1),
}
DEFAULT_QUALITY = 6


@dataclass(frozen=True)
class CodecTables:
    """The code's per-dimension tables and, above the decoder's own quality, the residual
    layer's per-context tables.

    ``exact`` residual tables (what aekit writes now, for version-3 files) were counted
    against the decoder's exact integer picture, with contexts taken from that picture; the
    others (version 2) against the float picture, with contexts from the codec family's
    integer ``predictor``. Code-only tables are the same for both."""

    latent: EntropyModel
    residual: residual_layer.ResidualModel | None = None
    exact: bool = True

    @property
    def residual_step(self) -> int:
        return 0 if self.residual is None else self.residual.step

    def to_json(self) -> str:
        """Canonical JSON; a code-only level is written as its EntropyModel alone, as before."""
        if self.residual is None:
            return self.latent.to_json()
        exact = '"exact":true,' if self.exact else ""
        return (
            "{" + exact + '"latent":' + self.latent.to_json() + ',"residual":' + self.residual.to_json() + "}"
        )

    @classmethod
    def from_json(cls, text: str) -> CodecTables:
        """Parse :meth:`to_json` output; ValueError if it is not consistent."""
        data = json.loads(text)
        if isinstance(data, dict) and set(data) - {"exact"} == {"latent", "residual"}:
            if data.get("exact", True) is not True:
                raise ValueError("inconsistent codec tables")
            latent = EntropyModel.from_json(json.dumps(data["latent"]))
            return cls(latent, residual_layer.ResidualModel.from_json(data["residual"]), "exact" in data)
        return cls(EntropyModel.from_json(text))


def fingerprint(model: Autoencoder, tables: CodecTables | EntropyModel) -> bytes:
    """16 bytes that change if any weight or any probability table changes."""
    tables = as_tables(tables)
    digest = tensor_digest(model.state_dict())  # the weights are float32: see docs/aez-format.md
    digest.update(tables.latent.to_json().encode())
    if tables.residual is not None:
        digest.update(tables.residual.to_json().encode())
    return digest.digest()[:FINGERPRINT_BYTES]


def as_tables(tables: CodecTables | EntropyModel) -> CodecTables:
    return tables if isinstance(tables, CodecTables) else CodecTables(tables)


def quality_level(run: Run, quality: object) -> tuple[float, int]:
    """(code step, residual step) of ``quality`` for a run of the codec family."""
    if run.model.config.family != "codec":
        raise ParameterError(
            "quality",
            quality,
            f"needs a run of the codec family (aekit train --model codec); this run is "
            f"{run.model.config.family}: give a step instead",
        )
    if isinstance(quality, bool) or quality not in QUALITY_LEVELS:
        raise ParameterError("quality", quality, f"must be a whole number from 1 to {max(QUALITY_LEVELS)}")
    return QUALITY_LEVELS[quality]


def coding_precision(run: Run) -> str:
    """The precision a run's networks compute in when coding: the codec family's own (bfloat16
    where the hardware computes it natively: on this project's CPU half the time, 0.007 dB
    lower PSNR on MNIST), float32 for other runs, as version 1 files were made."""
    return run.training.precision if run.model.config.family == "codec" else "float32"


def exact_picture(model: Autoencoder, latent: EntropyModel, rounded: np.ndarray) -> np.ndarray:
    """The decoder's picture (N, C, H, W) in pixel levels (uint8) of codes given as whole
    multiples of the step (N, D), computed in integers: the same on every machine and device
    (:mod:`aekit.models.exact`). What version-3 files decode to, before their residual."""
    device = next(model.decoder.parameters()).device
    return integer_decoder(model.decoder, device)(latent.dequantised(rounded))


def float_picture(
    model: Autoencoder, latent: EntropyModel, rounded: np.ndarray, precision: str
) -> np.ndarray:
    """The decoder's picture in pixel levels as version 1 and 2 files decode it: the float
    network in ``precision``, whose last bits depend on the machine."""
    return as_uint8(decode(model, latent.dequantised(rounded), precision=precision))


def predicted_levels(model: Autoencoder, latent: EntropyModel, rounded: np.ndarray) -> np.ndarray:
    """The codec family's exact integer prediction (N, C, H, W) in pixel levels 0..255 from
    codes given as whole multiples of the step (N, D); version-2 files' residual contexts."""
    network = integer_network(model.predictor, latent.step, latent.largest_magnitude())
    outputs = network(latent.clipped(rounded))
    return to_pixel_levels(outputs).reshape(len(rounded), *model.config.input_shape)


def residual_inputs(
    picture: np.ndarray, images: np.ndarray, residual_step: int
) -> tuple[np.ndarray, np.ndarray]:
    """What the residual layer codes for ``images`` (N, C, H, W in [0, 1]) against the
    decoder's exact ``picture`` (levels, same shape): the rounded pixel errors, and every
    pixel's context (from the picture, so the decoder knows it before the residual)."""
    errors = residual_layer.quantise(as_uint8(images), picture, residual_step)
    return errors, residual_layer.contexts(picture)


def fit_residual(
    model: Autoencoder,
    latent: EntropyModel,
    images: np.ndarray,
    residual_step: int,
    precision: str = "float32",
) -> residual_layer.ResidualModel:
    """The residual layer's exact tables at ``residual_step``, counted on ``images`` (N, C, H, W)
    encoded with ``model`` (in ``precision``) and coded with the code tables ``latent``."""
    rounded = latent.rounded(encode(model, images, precision=precision))
    errors, context = residual_inputs(exact_picture(model, latent, rounded), images, residual_step)
    return residual_layer.fit_residual_model(errors, context, residual_step)


# --- tables stored in a run folder -----------------------------------------------------------


def tables_path(run_folder: Path, model: Autoencoder, tables: CodecTables | EntropyModel) -> Path:
    """Where a run keeps tables: named by the fingerprint they give the run's files."""
    return RunFolder(run_folder).entropy / f"{fingerprint(model, tables).hex()}.json"


def _stored(run: Run, run_folder: Path, step: float, residual_step: int) -> CodecTables | None:
    for path in sorted(RunFolder(run_folder).entropy.glob("*.json")):
        try:
            candidate = CodecTables.from_json(read_bytes_limited(path, TABLE_LIMIT, "entropy table").decode())
        except (AekitError, ValueError, KeyError, TypeError, RecursionError):
            continue
        if (
            candidate.latent.step == step
            and candidate.residual_step == residual_step
            and candidate.exact
            and candidate.latent.latent_dim == run.model.config.latent_dim
            and path.stem == fingerprint(run.model, candidate).hex()
        ):
            return candidate
    return None


def entropy_model_for(run: Run, run_folder: Path, step: float) -> EntropyModel:
    """The run's code tables at ``step``: loaded if stored for these weights, else fitted on
    the run's training codes and stored in ``run_folder/entropy/`` for later compress and
    decompress calls. (Tables left by an earlier run in a reused folder are not used.)"""
    stored = _stored(run, run_folder, step, 0)
    if stored is not None:
        return stored.latent
    _refuse_fitting_builtin(run_folder)
    codes_file = RunFolder(run_folder).train_codes
    if codes_file.is_file():
        codes = load_npy(codes_file)
    else:
        codes = encode(run.model, load_split(run.dataset, "train").images)
    if codes.ndim != 2 or codes.shape[1] != run.model.config.latent_dim or not np.isfinite(codes).all():
        raise AekitError(f"{codes_file} does not hold this run's codes; delete it and compress again")
    model = fit_entropy_model(codes.astype(np.float32), step)
    atomic_write_text(tables_path(run_folder, run.model, model), model.to_json())
    return model


def tables_for(run: Run, run_folder: Path, step: float, residual_step: int = 0) -> CodecTables:
    """The run's tables for a code ``step`` and a residual step (0: none), loaded or fitted
    and stored as :func:`entropy_model_for` does."""
    latent = entropy_model_for(run, run_folder, step)
    if not residual_step:
        return CodecTables(latent)
    residual_layer.check_residual_step(residual_step)
    stored = _stored(run, run_folder, step, residual_step)
    if stored is not None and stored.latent == latent:
        return stored
    _refuse_fitting_builtin(run_folder)
    images = load_split(run.dataset, "train", limit=RESIDUAL_FIT_IMAGES).images
    residual = fit_residual(run.model, latent, images, residual_step, coding_precision(run))
    tables = CodecTables(latent, residual)
    atomic_write_text(tables_path(run_folder, run.model, tables), tables.to_json())
    return tables


def _refuse_fitting_builtin(run_folder: Path) -> None:
    """A built-in model is never changed: it ships the tables it has, and no others."""
    if is_builtin(run_folder):
        raise AekitError(
            f"the built-in model {run_folder.name} has no tables for this step; use the steps or "
            "qualities it ships (aekit models), or train a run of your own"
        )


def find_tables(run: Run, run_folder: Path, wanted: bytes) -> CodecTables | None:
    """The run's stored tables whose fingerprint is ``wanted``, if any."""
    path = RunFolder(run_folder).entropy / f"{wanted.hex()}.json"
    if not path.is_file():
        return None
    try:
        tables = CodecTables.from_json(read_bytes_limited(path, TABLE_LIMIT, "entropy table").decode())
    except (ValueError, KeyError, TypeError, RecursionError):
        raise AekitError(f"{path} is damaged; delete it and compress again") from None
    if tables.latent.latent_dim != run.model.config.latent_dim:
        raise AekitError(
            f"{path} holds tables for codes of {tables.latent.latent_dim} numbers, not this run's "
            f"{run.model.config.latent_dim}; delete it"
        )
    if fingerprint(run.model, tables) != wanted:
        raise AekitError(
            f"{path} does not belong to the weights in {run_folder}; the run folder mixes two runs"
        )
    return tables


def find_run_folder(wanted: bytes, search_root: Path | None = None) -> Path | None:
    """The run folder under ``search_root`` (default: the built-in models) holding the tables
    with fingerprint ``wanted``."""
    folders = (
        builtin_folders() if search_root is None else sorted(p for p in search_root.glob("*") if p.is_dir())
    )
    for folder in folders:
        if (RunFolder(folder).entropy / f"{wanted.hex()}.json").is_file():
            return folder
    return None
