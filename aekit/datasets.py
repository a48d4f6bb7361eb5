"""Datasets in the IDX format (MNIST): find, download, verify and decode them.

Files are looked for, in order, in the folder named by ``AEKIT_DATA_DIR``, in the user cache
(``$XDG_CACHE_HOME/aekit/<name>``, by default ``~/.cache/aekit/<name>``), and finally
downloaded from public mirrors into that cache. Each file may be gzip-compressed or raw;
what is verified is the SHA-256 of the *decompressed* bytes, so both forms load and a file
that fails the check is never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AekitError
from .fileio import atomic_write_bytes

DATA_DIR_VARIABLE = "AEKIT_DATA_DIR"

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte) and the rank.
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


@dataclass(frozen=True)
class IdxDataset:
    """Where an IDX dataset lives and what its four files must hash to."""

    name: str
    sha256: dict[str, str]  # decompressed file name -> SHA-256 of its bytes
    splits: dict[str, tuple[str, str]]  # split -> (images file, labels file)
    mirrors: tuple[str, ...]  # base URLs; each holds "<file>.gz"


MNIST = IdxDataset(
    name="mnist",
    sha256={
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    splits={
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
)

DATASETS = {MNIST.name: MNIST}


@dataclass(frozen=True)
class ImageSet:
    """Images as float32 in [0, 1], shape (N, C, H, W), with optional integer labels (N,)."""

    images: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.images)


def cache_dir(dataset: IdxDataset) -> Path:
    """The per-user folder that downloads go to."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aekit" / dataset.name


def search_dirs(dataset: IdxDataset) -> list[Path]:
    """Folders searched for the dataset's files, in order."""
    dirs = []
    if os.environ.get(DATA_DIR_VARIABLE):
        dirs.append(Path(os.environ[DATA_DIR_VARIABLE]))
    dirs.append(cache_dir(dataset))
    return dirs


def load_dataset(
    split: str,
    dataset: IdxDataset = MNIST,
    *,
    download: bool = True,
    limit: int | None = None,
) -> ImageSet:
    """Load one split ("train" or "test") as float32 images in [0, 1], shape (N, 1, 28, 28).

    ``limit`` keeps the first N examples (for quick experiments and tests). Raises
    :class:`AekitError` when a file is missing and cannot be downloaded, or is corrupt.
    """
    if split not in dataset.splits:
        raise AekitError(
            f"unknown split {split!r} for {dataset.name}; choose one of {', '.join(dataset.splits)}"
        )
    images_file, labels_file = dataset.splits[split]
    images = _verified_array(dataset, images_file, _IMAGES_MAGIC, download)
    labels = _verified_array(dataset, labels_file, _LABELS_MAGIC, download)
    if len(images) != len(labels):
        raise AekitError(
            f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} "
            "labels; replace both files with a fresh copy"
        )
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    # uint8 -> float32 in [0, 1], with a channel axis so every model family sees (N, C, H, W).
    pixels = images.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    return ImageSet(images=pixels, labels=labels.astype(np.int64))


def parse_idx(raw: bytes, name: str, magic: int) -> np.ndarray:
    """Decode an IDX file of unsigned bytes, checking its magic number and its size."""
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        raise AekitError(f"{name} is not an IDX file of the expected kind (bad magic number)")
    rank = magic & 0xFF
    header = 4 + 4 * rank
    if len(raw) < header:
        raise AekitError(f"{name} is truncated (header incomplete); delete it and fetch it again")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise AekitError(
            f"{name} has {len(raw)} bytes but its header promises {expected}; delete it and fetch it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _verified_array(dataset: IdxDataset, name: str, magic: int, download: bool) -> np.ndarray:
    """One file's array, found or downloaded, its structure and checksum verified."""
    for folder in search_dirs(dataset):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                raw = _decompressed(candidate)
                array = parse_idx(raw, str(candidate), magic)  # structure first: the clearer message
                _check(raw, name, dataset, candidate)
                return array
    if download:
        fetched = _download(dataset, name)
        if fetched is not None:
            return parse_idx(fetched, name, magic)
    wanted = ", ".join(dataset.sha256)
    where = ", ".join(str(d) for d in search_dirs(dataset))
    raise AekitError(
        f"{dataset.name} file {name} not found in {where} and could not be downloaded; "
        f"put the four files ({wanted}, raw or .gz) in a folder and set {DATA_DIR_VARIABLE} to it"
    )


def _decompressed(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise AekitError(f"{path} is a damaged gzip file ({exc}); delete it and fetch it again") from None


def _check(raw: bytes, name: str, dataset: IdxDataset, source: Path) -> None:
    if hashlib.sha256(raw).hexdigest() != dataset.sha256[name]:
        raise AekitError(
            f"{source} does not match the published checksum of {name}; "
            "it is corrupt or a different file: delete it and fetch it again"
        )


def _download(dataset: IdxDataset, name: str) -> bytes | None:
    """Try each mirror in turn; keep the first copy that verifies. None if all fail."""
    target = cache_dir(dataset) / f"{name}.gz"
    for base in dataset.mirrors:
        url = f"{base}{name}.gz"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                packed = response.read()
            raw = gzip.decompress(packed)
        except (urllib.error.URLError, OSError, EOFError, ValueError):
            continue
        if hashlib.sha256(raw).hexdigest() != dataset.sha256[name]:
            continue
        atomic_write_bytes(target, packed)
        return raw
    return None
