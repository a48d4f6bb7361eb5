"""Compressed image files (.aez): a trained run's encoder, quantiser and entropy coder as a codec.

The byte layout is documented in docs/aez-format.md. In short: a fixed header (magic,
version, model fingerprint, image shape, count, steps, section sizes), the entropy-coded
code, the exact values of codes outside their tables, the entropy-coded residual layer, and a
CRC-32 of everything before it. Decoding checks every field against limits and the file's
length before allocating anything, so a damaged or hostile file is a clear error. Version 3
decodes the decoder's picture in integers, the same on every machine; version 1 (no escapes,
no residual layer) and version 2 files still decode, in floats.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit.builtin import resolve_run_folder
from aekit.codec import residual as residual_layer
from aekit.codec.entropy import EntropyModel, check_step, decode_symbols, encode_symbols
from aekit.codec.tables import (
    DEFAULT_QUALITY,
    CodecTables,
    as_tables,
    coding_precision,
    exact_picture,
    find_run_folder,
    find_tables,
    fingerprint,
    float_picture,
    predicted_levels,
    quality_level,
    residual_inputs,
    tables_for,
)
from aekit.data.files import read_images
from aekit.errors import AekitError, ParameterError, check_whole
from aekit.fileio import (
    atomic_write_bytes,
    exclusive,
    read_bytes_limited,
    refuse_overwrite,
    regular_file_size,
)
from aekit.inference import encode
from aekit.metrics import mse, psnr
from aekit.runs import RUNS_ROOT, Run, load_run

MAGIC = b"\x89AEZ"
# Version 3 decodes exactly (the decoder's picture computed in integers); 1 and 2 in floats.
VERSION = 3
# Version 1: magic, version, flags, fingerprint, channels, height, width, latent_dim, count,
# step, payload size.
HEADER_V1 = struct.Struct("<4sBB16sHHHHIfI")
# Version 2 adds the residual step, the number of escaped codes and the residual's size;
# version 3 has the same layout.
HEADER = struct.Struct("<4sBB16sHHHHIfHIII")
HEADERS = {1: HEADER_V1, 2: HEADER, 3: HEADER}
CHECKSUM = struct.Struct("<I")
ESCAPE = struct.Struct("<q")
MAX_COUNT = 10_000_000
MAX_SIDE = 4096
MAX_CHANNELS = 4
# ANS keeps up to 64 bits of state beyond the information content; allow that and rounding.
ANS_SLACK_BITS = 64
# decompress returns at most this many float32 values (1 GiB) unless asked for more.
MAX_OUTPUT_VALUES = 1 << 28


@dataclass(frozen=True)
class Header:
    """The fields of an .aez file before its payload. ``payload_size`` is the code's section;
    ``escapes`` codes outside their tables follow it as 8-byte integers, then
    ``residual_size`` bytes of residual layer (``residual_step`` 0: none)."""

    fingerprint: bytes
    shape: tuple[int, int, int]
    latent_dim: int
    count: int
    step: float
    payload_size: int
    residual_step: int = 0
    escapes: int = 0
    residual_size: int = 0
    version: int = VERSION

    @property
    def body_size(self) -> int:
        return self.payload_size + ESCAPE.size * self.escapes + self.residual_size


@dataclass(frozen=True)
class Payload:
    """A file's three sections: the code's ANS words, the escaped codes, the residual's words."""

    latent: bytes
    escapes: np.ndarray
    residual: bytes = b""


def pack(header: Header, payload: Payload) -> bytes:
    """The complete file in ``header.version``'s layout: header, payload, CRC-32 of both."""
    common = (MAGIC, header.version, 0, header.fingerprint, *header.shape, header.latent_dim, header.count)
    if header.version == 1:
        fields = HEADER_V1.pack(*common, header.step, len(payload.latent))
    else:
        fields = HEADER.pack(
            *common,
            header.step,
            header.residual_step,
            len(payload.escapes),
            len(payload.latent),
            len(payload.residual),
        )
    escapes = np.asarray(payload.escapes, dtype="<i8").tobytes()
    body = fields + payload.latent + escapes + payload.residual
    return body + CHECKSUM.pack(zlib.crc32(body))


def parse_header(data: bytes, name: str = "the file", file_size: int | None = None) -> Header:
    """Check the fixed header at the start of ``data`` (at least its header's bytes) against
    the format's limits and, when given, the file's real size; nothing else is read."""
    actual = len(data) if file_size is None else file_size
    if len(data) < 6 or actual < HEADER_V1.size + CHECKSUM.size:
        raise AekitError(f"{name} is too short to be an .aez file ({actual} bytes); it is truncated")
    if data[:4] != MAGIC:
        raise AekitError(
            f"{name} is not an .aez file (wrong magic bytes); pass a file made by 'aekit compress'"
        )
    version = data[4]
    if version not in HEADERS:
        raise AekitError(
            f"{name} is .aez format version {version}; this aekit reads versions 1 to {VERSION}: "
            "upgrade aekit"
        )
    layout = HEADERS[version]
    if len(data) < layout.size:
        raise AekitError(f"{name} is too short to be an .aez file ({actual} bytes); it is truncated")
    if version == 1:
        _, _, flags, print_, channels, height, width, latent_dim, count, step, size = layout.unpack_from(data)
        residual_step, escapes, residual_size = 0, 0, 0
    else:
        (_, _, flags, print_, channels, height, width, latent_dim, count, step, residual_step, escapes, size,
         residual_size) = layout.unpack_from(data)  # fmt: skip
    header = Header(
        print_, (channels, height, width), latent_dim, count, step, size, residual_step, escapes,
        residual_size, version,
    )  # fmt: skip
    expected = layout.size + header.body_size + CHECKSUM.size
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
        "" if size % 4 == 0 and residual_size % 4 == 0 else "a payload that is not whole 32-bit words",
        "" if residual_step <= residual_layer.LEVELS else f"a residual step of {residual_step}",
        "" if residual_step or not residual_size else "a residual without a step",
        "" if escapes <= count * latent_dim else f"{escapes} escaped codes",
    ]
    problems = [p for p in problems if p]
    if problems:
        raise AekitError(f"{name} declares {', '.join(problems)}; the file is damaged")
    return header


def unpack(data: bytes, name: str = "the file") -> tuple[Header, Payload]:
    """Validate a whole .aez file's framing and checksum; return its header and payload.

    Raises :class:`AekitError` naming ``name`` for anything wrong: too short, wrong magic,
    unknown version, sizes beyond limits or the file's length, checksum mismatch.
    """
    header = parse_header(data, name)
    body = data[: -CHECKSUM.size]
    if zlib.crc32(body) != CHECKSUM.unpack_from(data, len(body))[0]:
        raise AekitError(f"{name} fails its checksum; the file is damaged (re-copy or re-compress it)")
    start = HEADERS[header.version].size
    escapes_at = start + header.payload_size
    residual_at = escapes_at + ESCAPE.size * header.escapes
    return header, Payload(
        latent=data[start:escapes_at],
        escapes=np.frombuffer(data[escapes_at:residual_at], dtype="<i8").astype(np.int64),
        residual=data[residual_at : residual_at + header.residual_size],
    )


@dataclass(frozen=True)
class Coded:
    """What :func:`code_images` made: the file's bytes, the bits its tables predicted, the
    codes as whole multiples of the step and the decoder's exact picture of them (levels)."""

    data: bytes
    predicted_bytes: float
    rounded: np.ndarray
    picture: np.ndarray


def code_images(
    run: Run, tables: CodecTables | EntropyModel, images: np.ndarray, progress: bool = False
) -> Coded:
    """Code ``images`` (N, C, H, W in [0, 1]) into .aez bytes, with the size the tables predict."""
    if len(images) > MAX_COUNT:
        raise AekitError(
            f"{len(images)} images is more than one .aez file holds ({MAX_COUNT}); split the input"
        )
    tables = as_tables(tables)
    if tables.residual is not None and not tables.exact:
        raise AekitError("these residual tables are for version-2 files, which aekit no longer writes")
    latent = tables.latent
    codes = encode(run.model, images, precision=coding_precision(run), progress=progress)
    symbols, escapes = latent.escaped_symbols(codes)
    bits = code_bits(latent, symbols, escapes)
    rounded = latent.unescaped(symbols, escapes)
    picture = exact_picture(run.model, latent, rounded)
    residual = b""
    if tables.residual is not None:
        errors, context = residual_inputs(picture, images, tables.residual.step)
        residual = residual_layer.encode_residual(tables.residual, errors, context)
        bits += tables.residual.bits(errors, context)
    payload = Payload(encode_symbols(latent, symbols, escape=True), escapes, residual)
    header = Header(
        fingerprint=fingerprint(run.model, tables),
        shape=tuple(run.model.config.input_shape),
        latent_dim=run.model.config.latent_dim,
        count=len(images),
        step=latent.step,
        payload_size=len(payload.latent),
        residual_step=tables.residual_step,
        escapes=len(escapes),
        residual_size=len(payload.residual),
    )
    return Coded(pack(header, payload), bits / 8 + HEADER.size + CHECKSUM.size, rounded, picture)


def code_bits(latent: EntropyModel, symbols: np.ndarray, escapes: np.ndarray) -> float:
    """What the code's section and its escaped numbers cost, as the tables predict it."""
    return latent.bits(symbols, escape=True) + 8 * ESCAPE.size * len(escapes)


def compress_images(
    run: Run, tables: CodecTables | EntropyModel, images: np.ndarray, progress: bool = False
) -> bytes:
    """The .aez bytes for ``images`` (N, C, H, W in [0, 1]). The same input gives the same bytes."""
    return code_images(run, tables, images, progress).data


def decompress_images(
    run: Run,
    tables: CodecTables | EntropyModel,
    data: bytes,
    name: str = "the file",
    max_images: int | None = None,
) -> np.ndarray:
    """Images (N, C, H, W; float32 pixel levels / 255) from .aez bytes made with this run and
    these tables; a file of more than ``max_images`` images (default:
    :func:`default_max_images`) is refused. Version-3 files decode to the same pixels on every
    machine; older ones may differ by a level (:class:`FloatDecodingWarning`)."""
    tables = as_tables(tables)
    header, payload = unpack(data, name)
    check_fits(header, run, tables, name, max_images)
    return _decode_payload(run, tables, header, payload, name)


class FloatDecodingWarning(UserWarning):
    """A file from an older aekit, whose decoding used float arithmetic: its pixels may differ
    by a level from what the machine that wrote it decoded."""


def _decode_payload(
    run: Run, tables: CodecTables, header: Header, payload: Payload, name: str, known: Coded | None = None
) -> np.ndarray:
    """The images in a payload whose header :func:`check_fits` has accepted. ``known``: what
    :func:`code_images` made of these bytes, whose exact picture need not be computed twice."""
    latent = tables.latent
    escape = header.version >= 2
    try:
        symbols = decode_symbols(latent, payload.latent, header.count, escape=escape)
        rounded = latent.unescaped(symbols, payload.escapes) if escape else symbols + np.asarray(latent.low)
    except ValueError as exc:
        raise AekitError(f"{name}: {exc}; the file is damaged") from None
    if header.version < VERSION:
        warnings.warn(
            f"{name} is an .aez file of version {header.version}, decoded in float arithmetic: its "
            "pixels may differ by a level from those its writer decoded",
            FloatDecodingWarning,
            stacklevel=3,
        )
        picture = float_picture(run.model, latent, rounded, coding_precision(run))
        context_source = predicted_levels(run.model, latent, rounded) if tables.residual is not None else None
    elif known is not None and np.array_equal(known.rounded, rounded):
        picture = context_source = known.picture
    else:
        picture = context_source = exact_picture(run.model, latent, rounded)
    if tables.residual is None:
        return _as_pixels(picture)
    context = residual_layer.contexts(context_source)
    try:
        errors = residual_layer.decode_residual(tables.residual, payload.residual, context)
    except ValueError as exc:
        raise AekitError(f"{name}: {exc}; the file is damaged") from None
    return _as_pixels(residual_layer.reconstruct(picture, errors, tables.residual.step))


def _as_pixels(levels: np.ndarray) -> np.ndarray:
    return levels.astype(np.float32) / residual_layer.LEVELS


def default_max_images(shape: tuple[int, int, int]) -> int:
    """How many images decompress returns unless asked for more: a gigabyte of float32 pixels."""
    return max(1, MAX_OUTPUT_VALUES // int(np.prod(shape)))


def check_fits(
    header: Header, run: Run, tables: CodecTables | EntropyModel, name: str, max_images: int | None = None
) -> None:
    """Refuse, before decoding anything, a header that does not match the run (fingerprint,
    image shape, code size, steps), declares more than ``max_images`` images, or a count its
    sections could not hold (too many codes or pixels for too few bytes, or the reverse)."""
    tables = as_tables(tables)
    latent = tables.latent
    if header.fingerprint != fingerprint(run.model, tables):
        raise AekitError(f"{name} was made with another model; pass the run that compressed it with --run")
    config = run.model.config
    if (
        header.shape != tuple(config.input_shape)
        or header.latent_dim != config.latent_dim
        or header.latent_dim != latent.latent_dim
        or header.step != np.float32(latent.step)
        or header.residual_step != tables.residual_step
        or (tables.residual is not None and tables.exact != (header.version >= 3))
    ):
        raise AekitError(
            f"{name} does not match its model's image shape, code size or steps; the file is damaged"
        )
    limit = default_max_images(header.shape) if max_images is None else max_images
    if header.count > limit:
        raise AekitError(
            f"{name} declares {header.count:,} images, more than the {limit:,} decompress returns "
            "by default; pass --max-images to allow more"
        )
    # The coder keeps probabilities to 24 bits: a symbol costs at most 24 bits and at least
    # what its quantised probability allows, which may be a little less than the exact one.
    escape = header.version >= 2
    least_bits = header.count * min(latent.min_bits_per_code(escape), latent.min_coded_bits_per_code(escape))
    sections = [(least_bits, header.payload_size, header.count * header.latent_dim)]
    if tables.residual is not None:
        pixels = header.count * int(np.prod(header.shape))
        sections.append((pixels * tables.residual.min_bits_per_pixel(), header.residual_size, pixels))
    for least, size, symbols in sections:
        if least > 8 * size + ANS_SLACK_BITS or 8 * size > symbols * 24 + 2 * ANS_SLACK_BITS:
            raise AekitError(
                f"{name} declares {header.count} images but its {size}-byte section cannot hold "
                "that many; the file is damaged"
            )


# --- whole files ---------------------------------------------------------------------------


def compress_file(
    run_folder: str | Path,
    inputs,
    output: str | Path,
    *,
    quality: int | None = None,
    step: float | None = None,
    force: bool = False,
    device: str = "cpu",
    progress: bool = False,
) -> Compressed:
    """Compress ``inputs`` (what :func:`aekit.data.files.read_images` takes) with the run in
    ``run_folder`` into the .aez file ``output``, at ``quality`` (runs of the codec family:
    1 smallest to 12 lossless, default 6) or a code ``step`` (any run trained with --quantize;
    default 1). The file is decoded again before it is written, so the PSNR reported is what
    ``decompress`` will give."""
    output, run_folder = Path(output), Path(run_folder)
    if output.suffix.lower() != ".aez":
        raise ParameterError("output", str(output), "compressed files are named *.aez")
    if quality is not None and step is not None:
        raise ParameterError("step", step, "give either a quality or a step, not both")
    if step is not None:
        check_step(step)
    refuse_overwrite(output, force)
    run_folder = resolve_run_folder(run_folder)
    run = load_run(run_folder, device=device)
    if step is None and (quality is not None or run.model.config.family == "codec"):
        step, residual_step = quality_level(run, DEFAULT_QUALITY if quality is None else quality)
    else:
        step, residual_step = 1.0 if step is None else step, 0
    images = read_images(inputs, run.model.config.input_shape).images
    tables = tables_for(run, run_folder, step, residual_step)
    with exclusive(output, ".aez file"):  # a second compress to the same file is refused
        refuse_overwrite(output, force)
        coded = code_images(run, tables, images, progress)
        restored = _decode_payload(run, tables, *unpack(coded.data, str(output)), str(output), known=coded)
        atomic_write_bytes(output, coded.data)
    warning = None
    if not run.training.quantize:
        warning = (
            f"{run_folder} was not trained with --quantize, so its decoder never saw rounded codes; "
            "expect lower quality than a run trained for compression"
        )
    # Clipped to pixels as the written images are, so this is the PSNR decompress gives.
    return Compressed(len(images), len(coded.data), psnr(mse(images, np.clip(restored, 0, 1))), warning)


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
    if run_folder is not None:
        folder = resolve_run_folder(run_folder)
    else:
        folder = find_run_folder(header.fingerprint, RUNS_ROOT) or find_run_folder(header.fingerprint)
    if folder is None:
        raise AekitError(
            f"{path} was made by a run not found under {RUNS_ROOT}/ nor among the built-in models; "
            "pass the run folder with --run"
        )
    run = load_run(folder, device=device)
    tables = find_tables(run, folder, header.fingerprint)
    if tables is None:
        raise AekitError(f"{path} was made with another model than {folder}; pass the right run with --run")
    check_fits(header, run, tables, str(path), max_images)
    # The file may have changed since its header was read: the full frame is checked again.
    full_header, payload = unpack(read_bytes_limited(path, size, ".aez file"), str(path))
    if full_header != header:
        raise AekitError(f"{path} changed while it was read; try again")
    return _decode_payload(run, tables, header, payload, str(path))
