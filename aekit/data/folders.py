"""Training data from a folder of the user's own images (PNG or JPEG, any size, gray or colour).

Every image is scaled so its shorter side is ``image_size`` and cropped to a centred square,
then converted to ``channels`` (1: grayscale, 3: RGB). A fixed, seed-independent shuffle
splits off ``val_fraction`` of the files for validation, so a run's "test" split is the
same set every time it is loaded (by training, resume, eval, report or compress).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from aekit.data.files import IMAGE_SUFFIXES, channel_count, pixels_chw
from aekit.data.idx import DATASETS, ImageSet, load_dataset
from aekit.errors import AekitError

# Refuse images larger than this before decoding them: a small file can declare a huge
# image (a "decompression bomb") and exhaust memory.
MAX_PIXELS = 50_000_000
_SPLIT_SEED = 0


@dataclass(frozen=True)
class FolderDataset:
    """A folder of images and how to turn them into training data."""

    path: str
    image_size: int
    channels: int
    val_fraction: float = 0.1
    skip_bad: bool = False
    stream: bool | None = None  # read from disk during training; None: only if it would not fit in memory

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    def to_dict(self) -> dict:
        return {"folder": self.path, **{k: v for k, v in asdict(self).items() if k != "path"}}

    @classmethod
    def from_dict(cls, data: dict) -> FolderDataset:
        return cls(
            path=str(data["folder"]),
            image_size=int(data["image_size"]),
            channels=int(data["channels"]),
            val_fraction=float(data.get("val_fraction", 0.1)),
            skip_bad=bool(data.get("skip_bad", False)),
            stream=data.get("stream"),
        )


def folder_dataset(
    path: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    val_fraction: float = 0.1,
    skip_bad: bool = False,
    stream: bool | None = None,
) -> FolderDataset:
    """Describe the images in ``path``; an unset size or channel count comes from the first image."""
    files = image_files(Path(path), skip_bad)
    if channels not in (None, 1, 3):
        raise AekitError(f"--channels must be 1 (grayscale) or 3 (RGB), not {channels}")
    if not 0 < val_fraction < 1:
        raise AekitError(f"--val-fraction must be between 0 and 1 (got {val_fraction})")
    if len(files) < 2:
        raise AekitError(f"{path} holds {len(files)} image; training needs at least 2 (one to validate on)")
    if image_size is None or channels is None:
        with _open(files[0]) as first:
            image_size = image_size or min(first.size)
            channels = channels or channel_count(first)
    if image_size < 1:
        raise AekitError(f"--image-size must be positive (got {image_size})")
    return FolderDataset(str(path), image_size, channels, val_fraction, skip_bad, stream)


def image_files(folder: Path, skip_bad: bool = False) -> list[Path]:
    """Every PNG/JPEG under ``folder``, sorted; other files are an error (or skipped)."""
    if not folder.is_dir():
        raise AekitError(f"{folder} is not a folder of images; check the --dataset path")
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            files.append(path)
        elif skip_bad:
            warnings.warn(f"skipping {path}: not a PNG or JPEG file", stacklevel=2)
        else:
            raise AekitError(f"{path} is not a PNG or JPEG file; remove it or pass --skip-bad")
    if not files:
        raise AekitError(f"{folder} holds no PNG or JPEG images")
    return files


def load_folder_split(spec: FolderDataset, split: str, limit: int | None = None) -> ImageSet:
    """The "train" or "test" (validation) images of a folder, as float32 (N, C, S, S) in [0, 1].

    The images are read into one array, unless ``spec.stream`` says otherwise or (when it is
    None) the array would take more than half the memory available: then ``images`` is a
    :class:`StreamedImages`, which reads files as they are indexed and which
    :func:`aekit.training.loop.fit` reads with worker processes.
    """
    if split not in ("train", "test"):
        raise AekitError(f"unknown split {split!r} for an image folder; choose train or test")
    files = image_files(Path(spec.path), spec.skip_bad)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(files))
    n_val = max(1, round(spec.val_fraction * len(files)))
    chosen = np.sort(order[:n_val] if split == "test" else order[n_val:])[:limit]
    chosen_files = [files[i] for i in chosen]
    stream = spec.stream
    if stream is None:
        stream = len(chosen_files) * 4 * int(np.prod(spec.shape)) > _available_memory() // 2
    if stream:
        return ImageSet(images=StreamedImages(chosen_files, spec))
    images = []
    for path in tqdm(chosen_files, desc=f"reading {split} images", leave=False, disable=len(chosen) < 1000):
        image = _read(path, spec)
        if image is not None:
            images.append(image)
    if not images:
        raise AekitError(f"no readable images left in the {split} part of {spec.path}")
    return ImageSet(images=np.stack(images))


class StreamedImages(torch.utils.data.Dataset):
    """Image files read on demand, indexable like the (N, C, S, S) array they stand for.

    ``images[i]`` reads one file; a slice or an index array reads several and stacks them,
    so code written for arrays (batched inference, plots) works unchanged. A file that turns
    out unreadable is an error even under ``skip_bad`` (skipping mid-training would change
    the batches); check a folder with an in-memory load first.
    """

    def __init__(self, files: list[Path], spec: FolderDataset):
        if not files:
            raise AekitError(f"no images in this part of {spec.path}")
        self.files = list(files)
        self.spec = dataclasses.replace(spec, skip_bad=False)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.files), *self.spec.shape)

    @property
    def ndim(self) -> int:
        return 4

    def __getitem__(self, index):
        if isinstance(index, slice):
            return np.stack([self._one(i) for i in range(*index.indices(len(self)))])
        if np.ndim(index) == 1:
            return np.stack([self._one(int(i)) for i in index])
        return self._one(int(index))

    def _one(self, index: int) -> np.ndarray:
        return _read(self.files[index], self.spec)


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30  # no /proc (macOS, Windows): assume a modest machine


def _open(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise AekitError(f"{path} is not a readable image ({exc}); remove it or pass --skip-bad") from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise AekitError(
            f"{path} is {image.width}x{image.height} pixels, over the limit of {MAX_PIXELS:,}; "
            "shrink it or remove it"
        )
    return image


def _read(path: Path, spec: FolderDataset) -> np.ndarray | None:
    try:
        with _open(path) as image:
            image.load()
            # Convert before scaling: LANCZOS needs true gray or RGB values, not palette indices.
            converted = image.convert("L" if spec.channels == 1 else "RGB")
            pixels = pixels_chw(_centre_square(converted, spec.image_size), spec.channels)
    except (AekitError, OSError) as exc:
        if not spec.skip_bad:
            raise AekitError(
                str(exc) if isinstance(exc, AekitError) else f"{path} cannot be decoded ({exc})"
            ) from None
        warnings.warn(f"skipping {path}: {exc}", stacklevel=2)
        return None
    return pixels


def _centre_square(image: Image.Image, size: int) -> Image.Image:
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    left, top = (width - size) // 2, (height - size) // 2
    return image.crop((left, top, left + size, top + size))


def load_split(dataset: str | dict, split: str, limit: int | None = None) -> ImageSet:
    """A run's data by what its config.json records: an IDX dataset's name, or an image
    folder's settings (:meth:`FolderDataset.to_dict`)."""
    if isinstance(dataset, dict):
        return load_folder_split(FolderDataset.from_dict(dataset), split, limit)
    if dataset not in DATASETS:
        raise AekitError(f"unknown dataset {dataset!r}; use {', '.join(DATASETS)} or a folder of images")
    return load_dataset(split, DATASETS[dataset], limit=limit)
