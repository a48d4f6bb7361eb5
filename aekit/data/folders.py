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
from tqdm.auto import tqdm

from aekit.data.idx import DATASETS, ImageSet, load_dataset
from aekit.data.images import channel_count, image_files, open_image, read_image
from aekit.errors import AekitError, ParameterError, check_whole
from aekit.models.config import MAX_SIDE
from aekit.models.recipes import DEFAULT_TRAIN_SIZE

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

    def __post_init__(self) -> None:
        # The one check of these settings, for ``aekit train`` and for a config.json alike.
        if not isinstance(self.path, str):
            raise ParameterError("dataset", self.path, "must be a folder's path")
        check_whole("image_size", self.image_size, 1, MAX_SIDE)
        if type(self.channels) is not int or self.channels not in (1, 3):
            raise ParameterError("channels", self.channels, "must be 1 (grayscale) or 3 (RGB)")
        fraction = self.val_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
            raise ParameterError("val_fraction", fraction, "must be between 0 and 1")
        if not isinstance(self.skip_bad, bool):
            raise ParameterError("skip_bad", self.skip_bad, "must be True or False")
        if self.stream is not None and not isinstance(self.stream, bool):
            raise ParameterError("stream", self.stream, "must be True, False or None")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    def to_dict(self) -> dict:
        return {"folder": self.path, **{k: v for k, v in asdict(self).items() if k != "path"}}

    @classmethod
    def from_dict(cls, data: dict) -> FolderDataset:
        """The settings :meth:`to_dict` wrote; a field of the wrong type is a ValueError."""
        known = {"folder", "image_size", "channels", "val_fraction", "skip_bad", "stream"}
        if not isinstance(data, dict) or not {"folder", "image_size", "channels"} <= set(data) <= known:
            raise ValueError("an image folder's settings need folder, image_size and channels")
        return cls(
            path=data["folder"],
            image_size=data["image_size"],
            channels=data["channels"],
            val_fraction=data.get("val_fraction", 0.1),
            skip_bad=data.get("skip_bad", False),
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
    files = _files(Path(path), skip_bad)
    if len(files) < 2:
        raise AekitError(f"{path} holds {len(files)} image; training needs at least 2 (one to validate on)")
    if image_size is None or channels is None:
        with open_image(files[0]) as first:
            image_size = image_size or min(first.size)
            channels = channels or channel_count(first)
    return FolderDataset(str(path), image_size, channels, val_fraction, skip_bad, stream)


def load_folder_split(spec: FolderDataset, split: str, limit: int | None = None) -> ImageSet:
    """The "train" or "test" (validation) images of a folder, as float32 (N, C, S, S) in [0, 1].

    The images are read into one array, unless ``spec.stream`` says otherwise or (when it is
    None) the array would take more than half the memory available: then ``images`` is a
    :class:`StreamedImages`, which reads files as they are indexed and which
    :func:`aekit.training.loop.fit` reads with worker processes.
    """
    if split not in ("train", "test"):
        raise AekitError(f"unknown split {split!r} for an image folder; choose train or test")
    files = _files(Path(spec.path), spec.skip_bad)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(files))
    n_val = _validation_count(spec.val_fraction, len(files))
    chosen = np.sort(order[:n_val] if split == "test" else order[n_val:])[:limit]
    chosen_files = [files[i] for i in chosen]
    stream = spec.stream
    if stream is None:
        stream = len(chosen_files) * 4 * int(np.prod(spec.shape)) > available_memory() // 2
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


def available_memory() -> int:
    """Bytes of memory free for new work (MemAvailable), or 8 GiB where /proc is missing."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30  # no /proc (macOS, Windows): assume a modest machine


def _read(path: Path, spec: FolderDataset) -> np.ndarray | None:
    try:
        return read_image(path, spec.shape)
    except AekitError as exc:
        if not spec.skip_bad:
            raise
        warnings.warn(f"skipping {path}: {exc}", stacklevel=2)
        return None


def load_split(dataset: str | dict | None, split: str, limit: int | None = None) -> ImageSet:
    """A run's data by what its config.json records: an IDX dataset's name, or an image
    folder's settings (:meth:`FolderDataset.to_dict`)."""
    if dataset is None:
        raise AekitError("this run was fitted on arrays in Python and has no dataset to read; pass images")
    if isinstance(dataset, dict):
        return load_folder_split(FolderDataset.from_dict(dataset), split, limit)
    if dataset not in DATASETS:
        raise AekitError(f"unknown dataset {dataset!r}; use {', '.join(DATASETS)} or a folder of images")
    return load_dataset(split, DATASETS[dataset], limit=limit)


def _validation_count(val_fraction: float, files: int) -> int:
    """How many of a folder's ``files`` are set aside for validation."""
    return max(1, round(val_fraction * files))


def training_size(dataset: str | dict) -> int:
    """How many training images ``dataset`` (as :func:`training_data` names it) gives, without
    reading any: a folder's files less its validation share, or an IDX dataset's 60,000 (MNIST,
    Fashion-MNIST and KMNIST all have that many)."""
    if isinstance(dataset, dict):
        spec = FolderDataset.from_dict(dataset)
        files = len(_files(Path(spec.path), spec.skip_bad))
        size = files - _validation_count(spec.val_fraction, files)
    else:
        size = DEFAULT_TRAIN_SIZE
    return max(1, size)


def training_data(
    dataset: str,
    image_size: int | None = None,
    channels: int | None = None,
    val_fraction: float | None = None,
    skip_bad: bool = False,
    stream: bool = False,
) -> tuple[str | dict, tuple[int, int, int]]:
    """What ``dataset`` (an IDX dataset's name or a folder) names, as config.json records it,
    and the shape (C, H, W) of its images."""
    if dataset in DATASETS:
        if image_size or channels or skip_bad or stream or val_fraction is not None:
            raise ParameterError(
                "dataset",
                dataset,
                "image_size, channels, val_fraction, skip_bad and stream apply to image folders only",
            )
        return dataset, (1, 28, 28)
    if not Path(dataset).exists():
        raise ParameterError("dataset", dataset, f"no such folder, and not one of {', '.join(DATASETS)}")
    spec = folder_dataset(
        Path(dataset).resolve(),
        image_size,
        channels,
        0.1 if val_fraction is None else val_fraction,
        skip_bad,
        stream=True if stream else None,
    )
    return spec.to_dict(), spec.shape


def _files(folder: Path, skip_bad: bool) -> list[Path]:
    if not folder.is_dir():
        raise AekitError(f"{folder} is not a folder of images; check the --dataset path")
    return image_files([folder], skip_bad)


def check_dataset_record(record: object) -> str | dict | None:
    """A dataset as config.json records it, checked: an IDX dataset's name, an image folder's
    settings, or None (a model fitted on arrays in Python). Raises ValueError otherwise."""
    if record is None or (isinstance(record, str) and record in DATASETS):
        return record
    if isinstance(record, dict):
        FolderDataset.from_dict(record)
        return record
    raise ValueError(f"dataset {record!r} is not one aekit knows")
