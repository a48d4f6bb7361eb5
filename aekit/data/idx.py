"""Datasets in the IDX format (MNIST): find, download, verify and decode them.

Files are looked for, in order, in the folder named by ``AEKIT_DATA_DIR``, in the user cache
(``$XDG_CACHE_HOME/aekit/<name>``, by default ``~/.cache/aekit/<name>``), and finally
downloaded from public mirrors into that cache. MNIST's files may sit directly in
``AEKIT_DATA_DIR``; every dataset may also sit in a subfolder named after it
(``$AEKIT_DATA_DIR/fashion-mnist``), which is the only place other datasets are looked for
there, since they share MNIST's file names.

For MNIST and Fashion-MNIST what is verified is the SHA-256 of the *decompressed* bytes, so
raw and gzip files (any gzip wrapper) both load. KMNIST publishes only the MD5 of its ``.gz``
files, so those must be the published ``.gz`` files, and that MD5 is checked. A file that
fails a check is never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aekit.errors import AekitError, ParameterError
from aekit.fileio import atomic_write_bytes

DATA_DIR_VARIABLE = "AEKIT_DATA_DIR"

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte) and the rank.
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


@dataclass(frozen=True)
class IdxDataset:
    """Where an IDX dataset lives and what its four files must hash to."""

    name: str
    splits: dict[str, tuple[str, str]]  # split -> (images file, labels file)
    mirrors: tuple[str, ...]  # base URLs; each holds "<file>.gz"
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 of its decompressed bytes
    gz_md5: dict[str, str] = field(default_factory=dict)  # file name -> MD5 of the published "<file>.gz"

    @property
    def files(self) -> list[str]:
        return [name for pair in self.splits.values() for name in pair]


_MNIST_LAYOUT = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MNIST = IdxDataset(
    name="mnist",
    splits=_MNIST_LAYOUT,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
)

# SHA-256 of the decompressed files, whose content is the same wherever they come from (the
# authors publish only the MD5 of their .gz wrappers, which a recompressed copy, such as
# Debian's dataset-fashion-mnist package, does not match).
FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    splits=_MNIST_LAYOUT,
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    sha256={
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
)

KMNIST = IdxDataset(
    name="kmnist",
    splits=_MNIST_LAYOUT,
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    gz_md5={
        "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
    },
)

DATASETS = {spec.name: spec for spec in (MNIST, FASHION_MNIST, KMNIST)}


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
        root = Path(os.environ[DATA_DIR_VARIABLE])
        dirs.append(root / dataset.name)
        if dataset.name == MNIST.name:
            dirs.append(root)
    dirs.append(cache_dir(dataset))
    return dirs


def load_dataset(
    split: str,
    dataset: IdxDataset | str = MNIST,
    *,
    download: bool = True,
    limit: int | None = None,
) -> ImageSet:
    """Load one split ("train" or "test") as float32 images in [0, 1], shape (N, 1, 28, 28).

    ``dataset`` is an :class:`IdxDataset` or its name ("mnist", "fashion-mnist", "kmnist").
    ``limit`` keeps the first N examples (for quick experiments and tests). Raises
    :class:`AekitError` when a file is missing and cannot be downloaded, or is corrupt.
    """
    images, labels = load_raw(split, dataset, download=download, limit=limit)
    # uint8 -> float32 in [0, 1], with a channel axis so every model family sees (N, C, H, W).
    pixels = images.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    return ImageSet(images=pixels, labels=labels.astype(np.int64))


def load_raw(
    split: str, dataset: IdxDataset | str = MNIST, *, download: bool = True, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One split as its files hold it: uint8 images (N, 28, 28) and uint8 labels (N,)."""
    if isinstance(dataset, str):
        if dataset not in DATASETS:
            raise ParameterError("dataset", dataset, f"choose one of {', '.join(DATASETS)}")
        dataset = DATASETS[dataset]
    if split not in dataset.splits:
        raise ParameterError("split", split, f"choose one of {', '.join(dataset.splits)} for {dataset.name}")
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
    return images, labels


def load_mnist(
    dataset: str = "mnist", *, download: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` as Keras' ``mnist.load_data()`` gives them:
    uint8 images (N, 28, 28) and uint8 labels. ``dataset`` may also be "fashion-mnist" or "kmnist"."""
    return load_raw("train", dataset, download=download), load_raw("test", dataset, download=download)


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
                packed = candidate.read_bytes()
                raw = _decompressed(packed, candidate)
                array = parse_idx(raw, str(candidate), magic)  # structure first: the clearer message
                if not _verified(dataset, name, packed, raw):
                    raise AekitError(
                        f"{candidate} does not match the published checksum of {name}"
                        + ("" if name in dataset.sha256 else " (only the published .gz can be checked)")
                        + "; it is corrupt or a different file: delete it and fetch it again"
                    )
                return array
    if download:
        fetched = _download(dataset, name)
        if fetched is not None:
            return parse_idx(fetched, name, magic)
    wanted = ", ".join(dataset.files)
    where = ", ".join(str(d) for d in search_dirs(dataset))
    forms = "raw or .gz" if dataset.sha256 else "the published .gz files"
    folder = "a folder" if dataset.name == MNIST.name else f"a subfolder {dataset.name}/ of a folder"
    raise AekitError(
        f"{dataset.name} file {name} not found in {where} and could not be downloaded; "
        f"put the four files ({wanted}, {forms}) in {folder} and set {DATA_DIR_VARIABLE} to that folder"
    )


def _decompressed(packed: bytes, path: Path) -> bytes:
    if packed[:2] != b"\x1f\x8b":
        return packed
    try:
        return gzip.decompress(packed)
    except (OSError, EOFError) as exc:
        raise AekitError(f"{path} is a damaged gzip file ({exc}); delete it and fetch it again") from None


def _verified(dataset: IdxDataset, name: str, packed: bytes, raw: bytes) -> bool:
    """Whether a file's bytes (as stored, and decompressed) match what its authors published."""
    if name in dataset.sha256:
        return hashlib.sha256(raw).hexdigest() == dataset.sha256[name]
    return hashlib.md5(packed, usedforsecurity=False).hexdigest() == dataset.gz_md5[name]


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
        if not _verified(dataset, name, packed, raw):
            continue
        atomic_write_bytes(target, packed)
        return raw
    return None
