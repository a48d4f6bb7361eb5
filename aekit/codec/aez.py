"""Compressed image files (.aez): a trained run's encoder, quantiser and entropy coder as a codec.

The byte layout is documented in docs/aez-format.md. In short: a fixed header (magic,
version, model fingerprint, image shape, count, step, payload size), the ANS payload, and a
CRC-32 of everything before it. Decoding checks every field against limits and the file's
length before allocating anything, so a damaged or hostile file is a clear error.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit.codec.entropy import EntropyModel, check_step, decode_symbols, encode_symbols, fit_entropy_model
from aekit.data.files import load_npy, read_images
from aekit.data.folders import load_split
from aekit.errors import AekitError, ParameterError, check_whole
from aekit.fileio import (
    atomic_write_bytes,
    atomic_write_text,
    read_bytes_limited,
    refuse_overwrite,
    regular_file_size,
)
from aekit.inference import decode, encode
from aekit.metrics import mse, psnr
from aekit.models import Autoencoder
from aekit.runs import RUNS_ROOT, Run, RunFolder, load_run
from aekit.training.checkpoints import tensor_digest

MAGIC = b"\x89AEZ"
VERSION = 1
# magic, version, flags, fingerprint, channels, height, width, latent_dim, count, step, payload size
HEADER = struct.Struct("<4sBB16sHHHHIfI")
CHECKSUM = struct.Struct("<I")
FINGERPRINT_BYTES = 16
MAX_COUNT = 10_000_000
MAX_SIDE = 4096
MAX_CHANNELS = 4
# ANS keeps up to 64 bits of state beyond the information content; allow that and rounding.
ANS_SLACK_BITS = 64
# decompress returns at most this many float32 values (1 GiB) unless asked for more.
MAX_OUTPUT_VALUES = 1 << 28
# An entropy table file larger than this is not one aekit wrote.
TABLE_LIMIT = 64 << 20


@dataclass(frozen=True)
class Header:
    """The fields of an .aez file before its payload."""

    fingerprint: bytes
    shape: tuple[int, int, int]
    latent_dim: int
    count: int
    step: float
    payload_size: int


def fingerprint(model: Autoencoder, entropy_model: EntropyModel) -> bytes:
    """16 bytes that change if any weight or any probability table changes."""
    digest = tensor_digest(model.state_dict())  # the weights are float32: see docs/aez-format.md
    digest.update(entropy_model.to_json().encode())
    return digest.digest()[:FINGERPRINT_BYTES]


def pack(header: Header, payload: bytes) -> bytes:
    """The complete file: header, payload, CRC-32 of both."""
    body = (
        HEADER.pack(
            MAGIC,
            VERSION,
            0,
            header.fingerprint,
            *header.shape,
            header.latent_dim,
            header.count,
            header.step,
            len(payload),
        )
        + payload
    )
    return body + CHECKSUM.pack(zlib.crc32(body))


def parse_header(data: bytes, name: str = "the file", file_size: int | None = None) -> Header:
    """Check the fixed header at the start of ``data`` (at least its first HEADER.size bytes)
    against the format's limits and, when given, the file's real size; nothing else is read."""
    if len(data) < HEADER.size + CHECKSUM.size and (
        file_size is None or file_size < HEADER.size + CHECKSUM.size
    ):
        raise AekitError(f"{name} is too short to be an .aez file ({len(data)} bytes); it is truncated")
    magic, version, flags, print_, channels, height, width, latent_dim, count, step, size = (
        HEADER.unpack_from(data)
    )
    if magic != MAGIC:
        raise AekitError(
            f"{name} is not an .aez file (wrong magic bytes); pass a file made by 'aekit compress'"
        )
    if version != VERSION:
        raise AekitError(
            f"{name} is .aez format version {version}; this aekit reads version {VERSION}: upgrade aekit"
        )
    expected = HEADER.size + size + CHECKSUM.size
    actual = len(data) if file_size is None else file_size
    if actual != expected:
        raise AekitError(
            f"{name} is {actual} bytes but its header declares {expected}; the file is truncated or damaged"
        )
    problems = [
        "flags are set" if flags else "",
        "" if 1 <= channels <= MAX_CHANNELS else f"{channels} channels",
        "" if 1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE else f"{width}x{height} pixels",
        "" if 1 <= count <= MAX_COUNT else f"{count} images",
        "" if latent_dim >= 1 else "an empty code",
        "" if np.isfinite(step) and step > 0 else f"step {step}",
        "" if size % 4 == 0 else "a payload that is not whole 32-bit words",
    ]
    problems = [p for p in problems if p]
    if problems:
        raise AekitError(f"{name} declares {', '.join(problems)}; the file is damaged")
    return Header(print_, (channels, height, width), latent_dim, count, step, size)


def unpack(data: bytes, name: str = "the file") -> tuple[Header, bytes]:
    """Validate a whole .aez file's framing and checksum; return its header and payload.

    Raises :class:`AekitError` naming ``name`` for anything wrong: too short, wrong magic,
    unknown version, sizes beyond limits or the file's length, checksum mismatch.
    """
    header = parse_header(data, name)
    body = data[: -CHECKSUM.size]
    if zlib.crc32(body) != CHECKSUM.unpack_from(data, len(body))[0]:
        raise AekitError(f"{name} fails its checksum; the file is damaged (re-copy or re-compress it)")
    return header, data[HEADER.size : HEADER.size + header.payload_size]


def compress_images(
    run: Run, entropy_model: EntropyModel, images: np.ndarray, progress: bool = False
) -> bytes:
    """The .aez bytes for ``images`` (N, C, H, W in [0, 1]). The same input gives the same bytes."""
    if len(images) > MAX_COUNT:
        raise AekitError(
            f"{len(images)} images is more than one .aez file holds ({MAX_COUNT}); split the input"
        )
    symbols = entropy_model.symbols(encode(run.model, images, progress=progress))
    payload = encode_symbols(entropy_model, symbols)
    header = Header(
        fingerprint=fingerprint(run.model, entropy_model),
        shape=tuple(run.model.config.input_shape),
        latent_dim=run.model.config.latent_dim,
        count=len(images),
        step=entropy_model.step,
        payload_size=len(payload),
    )
    return pack(header, payload)


def decompress_images(
    run: Run,
    entropy_model: EntropyModel,
    data: bytes,
    name: str = "the file",
    max_images: int | None = None,
) -> np.ndarray:
    """Images (N, C, H, W) from .aez bytes made with this run and entropy model; a file of
    more than ``max_images`` images (default: :func:`default_max_images`) is refused."""
    header, payload = unpack(data, name)
    check_fits(header, run, entropy_model, name, max_images)
    return _decode_payload(run, entropy_model, header, payload, name)


def _decode_payload(run: Run, entropy_model: EntropyModel, header: Header, payload: bytes, name: str):
    """The images in a payload whose header :func:`check_fits` has accepted."""
    try:
        symbols = decode_symbols(entropy_model, payload, header.count)
    except ValueError as exc:
        raise AekitError(f"{name}: {exc}; the file is damaged") from None
    return decode(run.model, entropy_model.codes(symbols))


def default_max_images(shape: tuple[int, int, int]) -> int:
    """How many images decompress returns unless asked for more: a gigabyte of float32 pixels."""
    return max(1, MAX_OUTPUT_VALUES // int(np.prod(shape)))


def check_fits(
    header: Header, run: Run, entropy_model: EntropyModel, name: str, max_images: int | None = None
) -> None:
    """Refuse, before decoding anything, a header that does not match the run (fingerprint,
    image shape, code size, step), declares more than ``max_images`` images, or a count its
    payload could not hold (too many codes for too few bytes, or the reverse)."""
    if header.fingerprint != fingerprint(run.model, entropy_model):
        raise AekitError(f"{name} was made with another model; pass the run that compressed it with --run")
    config = run.model.config
    if (
        header.shape != tuple(config.input_shape)
        or header.latent_dim != config.latent_dim
        or header.latent_dim != entropy_model.latent_dim
        or header.step != np.float32(entropy_model.step)
    ):
        raise AekitError(
            f"{name} does not match its model's image shape, code size or step; the file is damaged"
        )
    limit = default_max_images(header.shape) if max_images is None else max_images
    if header.count > limit:
        raise AekitError(
            f"{name} declares {header.count:,} images, more than the {limit:,} decompress returns "
            "by default; pass --max-images to allow more"
        )
    # The coder keeps probabilities to 24 bits: a symbol costs at most 24 bits and at least
    # what its quantised probability allows, which may be a little less than the exact one.
    least_bits = header.count * min(
        entropy_model.min_bits_per_code(), entropy_model.min_coded_bits_per_code()
    )
    most_bits = header.count * header.latent_dim * 24
    if (
        least_bits > 8 * header.payload_size + ANS_SLACK_BITS
        or 8 * header.payload_size > most_bits + 2 * ANS_SLACK_BITS
    ):
        raise AekitError(
            f"{name} declares {header.count} images but its {header.payload_size}-byte payload cannot hold "
            "that many; the file is damaged"
        )


# --- entropy models stored in a run folder -------------------------------------------------


def entropy_model_path(run_folder: Path, model: Autoencoder, entropy_model: EntropyModel) -> Path:
    """Where a run keeps an entropy model: named by the fingerprint it gives the run's files."""
    return RunFolder(run_folder).entropy / f"{fingerprint(model, entropy_model).hex()}.json"


def entropy_model_for(run: Run, run_folder: Path, step: float) -> EntropyModel:
    """The run's entropy model at ``step``: loaded if stored for these weights, else fitted on
    the run's training set and stored in ``run_folder/entropy/`` for later compress and
    decompress calls. (Tables left by an earlier run in a reused folder are not used.)"""
    for path in sorted(RunFolder(run_folder).entropy.glob("*.json")):
        try:
            candidate = EntropyModel.from_json(
                read_bytes_limited(path, TABLE_LIMIT, "entropy table").decode()
            )
        except (AekitError, ValueError, KeyError, TypeError, RecursionError):
            continue
        if candidate.step == step and path.stem == fingerprint(run.model, candidate).hex():
            return candidate
    codes_file = RunFolder(run_folder).train_codes
    if codes_file.is_file():
        codes = load_npy(codes_file)
    else:
        codes = encode(run.model, load_split(run.dataset, "train").images)
    if codes.ndim != 2 or codes.shape[1] != run.model.config.latent_dim or not np.isfinite(codes).all():
        raise AekitError(f"{codes_file} does not hold this run's codes; delete it and compress again")
    model = fit_entropy_model(codes.astype(np.float32), step)
    atomic_write_text(entropy_model_path(run_folder, run.model, model), model.to_json())
    return model


def find_entropy_model(run: Run, run_folder: Path, wanted: bytes) -> EntropyModel | None:
    """The run's stored entropy model whose fingerprint is ``wanted``, if any."""
    path = RunFolder(run_folder).entropy / f"{wanted.hex()}.json"
    if not path.is_file():
        return None
    try:
        model = EntropyModel.from_json(read_bytes_limited(path, TABLE_LIMIT, "entropy table").decode())
    except (ValueError, KeyError, TypeError, RecursionError):
        raise AekitError(f"{path} is damaged; delete it and compress again") from None
    if fingerprint(run.model, model) != wanted:
        raise AekitError(
            f"{path} does not belong to the weights in {run_folder}; the run folder mixes two runs"
        )
    return model


def find_run_folder(wanted: bytes, search_root: Path) -> Path | None:
    """The run folder under ``search_root`` holding the entropy model with fingerprint ``wanted``."""
    for folder in sorted(p for p in search_root.glob("*") if p.is_dir()):
        if (RunFolder(folder).entropy / f"{wanted.hex()}.json").is_file():
            return folder
    return None


# --- whole files ---------------------------------------------------------------------------


def compress_file(
    run_folder: str | Path,
    inputs,
    output: str | Path,
    *,
    step: float = 1.0,
    force: bool = False,
    device: str = "cpu",
    progress: bool = False,
) -> Compressed:
    """Compress ``inputs`` (what :func:`aekit.data.files.read_images` takes) with the run in
    ``run_folder`` into the .aez file ``output``. The file is decoded again before it is
    written, so the PSNR reported is what ``decompress`` will give."""
    output, run_folder = Path(output), Path(run_folder)
    if output.suffix.lower() != ".aez":
        raise ParameterError("output", str(output), "compressed files are named *.aez")
    check_step(step)
    refuse_overwrite(output, force)
    run = load_run(run_folder, device=device)
    images = read_images(inputs, run.model.config.input_shape).images
    entropy_model = entropy_model_for(run, run_folder, step)
    data = compress_images(run, entropy_model, images, progress)
    restored = _decode_payload(run, entropy_model, *unpack(data, str(output)), str(output))
    atomic_write_bytes(output, data)
    warning = None
    if not run.training.quantize:
        warning = (
            f"{run_folder} was not trained with --quantize, so its decoder never saw rounded codes; "
            "expect lower quality than a run trained for compression"
        )
    # Clipped to pixels as the written images are, so this is the PSNR decompress gives.
    return Compressed(len(images), len(data), psnr(mse(images, np.clip(restored, 0, 1))), warning)


@dataclass(frozen=True)
class Compressed:
    """What :func:`compress_file` wrote: images, bytes, the PSNR (dB) of the decoded images
    against the input, and a warning when the run was not trained for compression."""

    images: int
    size: int
    psnr: float
    warning: str | None = None


def decompress_file(
    path: str | Path,
    *,
    run_folder: str | Path | None = None,
    device: str = "cpu",
    max_images: int | None = None,
) -> np.ndarray:
    """Images (N, C, H, W) from the .aez file ``path``; its run is ``run_folder`` or the
    folder under ``runs/`` whose entropy tables carry the file's fingerprint.

    The header is checked against the file's size and the run before the rest is read, so a
    large or hostile file is refused without reading it (see docs/threat-model.md)."""
    path = Path(path)
    if max_images is not None:
        check_whole("max_images", max_images)
    size = regular_file_size(path, ".aez file")
    with open(path, "rb") as handle:
        header = parse_header(handle.read(HEADER.size), str(path), file_size=size)
    folder = Path(run_folder) if run_folder is not None else find_run_folder(header.fingerprint, RUNS_ROOT)
    if folder is None:
        raise AekitError(
            f"{path} was made by a run not found under {RUNS_ROOT}/; pass the run folder with --run"
        )
    run = load_run(folder, device=device)
    entropy_model = find_entropy_model(run, folder, header.fingerprint)
    if entropy_model is None:
        raise AekitError(f"{path} was made with another model than {folder}; pass the right run with --run")
    check_fits(header, run, entropy_model, str(path), max_images)
    # The file may have changed since its header was read: the full frame is checked again.
    full_header, payload = unpack(read_bytes_limited(path, size, ".aez file"), str(path))
    if full_header != header:
        raise AekitError(f"{path} changed while it was read; try again")
    return _decode_payload(run, entropy_model, header, payload, str(path))
