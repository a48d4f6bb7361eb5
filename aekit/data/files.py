"""Reading images and codes from what users pass on the command line, and writing them back.

An input is ``mnist:train`` / ``mnist:test``, a ``.npy`` array, PNG/JPEG files, or a folder
of them. Images come out as float32 (N, C, H, W) in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from aekit.data.idx import DATASETS, ImageSet, load_dataset
from aekit.errors import AekitError
from aekit.fileio import atomic_path, refuse_overwrite

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_images(
    spec: str | Path | list[str | Path],
    shape: tuple[int, int, int],
    *,
    resize: bool = False,
) -> ImageSet:
    """Images for a model taking ``shape`` = (C, H, W), from a dataset name, .npy, files or a folder.

    Images of another size or channel count are an error unless ``resize`` converts them.
    """
    sources = [spec] if isinstance(spec, str | Path) else list(spec)
    if (
        len(sources) == 1
        and isinstance(sources[0], str)
        and ":" in sources[0]
        and not Path(sources[0]).exists()
    ):
        return _read_dataset(sources[0], shape)
    if len(sources) == 1 and Path(sources[0]).suffix.lower() == ".npy":
        return ImageSet(images=_npy_images(Path(sources[0]), shape))
    files = _image_files(sources)
    return ImageSet(images=np.stack([_read_image_file(f, shape, resize) for f in files]))


def read_codes(path: str | Path, latent_dim: int) -> np.ndarray:
    """Codes (N, latent_dim) as float32 from a .npy file."""
    codes = _load_npy(Path(path))
    if codes.ndim != 2 or codes.shape[1] != latent_dim or codes.shape[0] == 0:
        raise AekitError(
            f"{path} holds an array of shape {codes.shape}; this model decodes (N, {latent_dim}) codes"
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.all(np.isfinite(codes)):
        raise AekitError(f"{path} must hold finite numbers; regenerate it with 'aekit encode'")
    return codes.astype(np.float32)


def write_array(array: np.ndarray, path: str | Path, force: bool = False) -> None:
    """Save ``array`` as .npy, atomically, refusing to replace a file without ``force``."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise AekitError(f"{path}: codes are written as .npy; name the output file *.npy")
    refuse_overwrite(path, force)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array, allow_pickle=False)


def write_images(images: np.ndarray, out: str | Path, force: bool = False) -> None:
    """Write images (N, C, H, W) in [0, 1] as one .npy (N, H, W) or (N, C, H, W), or a folder of PNGs."""
    out = Path(out)
    if out.suffix.lower() == ".npy":
        write_array(images[:, 0] if images.shape[1] == 1 else images, out, force)
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise AekitError(f"{out} already exists; choose another output or pass --force to replace it")
    out.mkdir(parents=True, exist_ok=True)
    digits = max(5, len(str(len(images) - 1)))
    for index, image in enumerate(to_uint8(images)):
        with atomic_path(out / f"{index:0{digits}d}.png") as tmp:
            _to_pil(image).save(tmp, format="PNG")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float images in [0, 1] -> uint8 (N, H, W, C), rounded and clipped."""
    pixels = np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
    return pixels.transpose(0, 2, 3, 1)


def _to_pil(image_hwc: np.ndarray) -> Image.Image:
    return Image.fromarray(image_hwc[:, :, 0] if image_hwc.shape[2] == 1 else image_hwc)


def _read_dataset(spec: str, shape: tuple[int, int, int]) -> ImageSet:
    name, _, split = spec.partition(":")
    if name not in DATASETS:
        raise AekitError(
            f"unknown dataset {name!r} in {spec!r}; use {', '.join(f'{d}:train' for d in DATASETS)}, "
            "a .npy file or images"
        )
    data = load_dataset(split, DATASETS[name])
    if tuple(data.images.shape[1:]) != tuple(shape):
        raise AekitError(f"{spec} images are {data.images.shape[1:]} but the model takes {tuple(shape)}")
    return data


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise AekitError(f"{path} does not exist; check the path")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise AekitError(f"{path} is not a readable .npy array ({exc}); save it with numpy.save") from None


def _npy_images(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    array = _load_npy(path)
    channels, height, width = shape
    n = array.shape[0] if array.ndim else 0
    if array.ndim == 2 and array.shape[1] == channels * height * width:
        array = array.reshape(n, channels, height, width)
    elif array.ndim == 3 and channels == 1 and array.shape[1:] == (height, width):
        array = array[:, None]
    elif not (array.ndim == 4 and tuple(array.shape[1:]) == tuple(shape)):
        want = f"(N, {height}, {width}), " if channels == 1 else ""
        raise AekitError(
            f"{path} holds an array of shape {array.shape}; expected {want}"
            f"(N, {channels}, {height}, {width}) or (N, {channels * height * width})"
        )
    if n == 0:
        raise AekitError(f"{path} holds no images")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)):
        raise AekitError(f"{path} must hold uint8 pixels or finite floats in [0, 1] (got {array.dtype})")
    if array.min() < 0 or array.max() > 1:
        raise AekitError(f"{path} has values outside [0, 1]; divide 8-bit pixels by 255 first")
    return array.astype(np.float32)


def _image_files(sources: list[str | Path]) -> list[Path]:
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            found = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise AekitError(f"{source} holds no PNG or JPEG files")
            files += found
        elif source.is_file():
            if source.suffix.lower() not in IMAGE_SUFFIXES:
                raise AekitError(
                    f"{source}: expected a .npy array, PNG or JPEG images, a folder of them, "
                    "or mnist:train|test"
                )
            files.append(source)
        else:
            raise AekitError(f"{source} does not exist; check the path")
    return files


def _read_image_file(path: Path, shape: tuple[int, int, int], resize: bool) -> np.ndarray:
    channels, height, width = shape
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise AekitError(f"{path} is not a readable image ({exc})") from None
    found_channels = channel_count(image)
    if (found_channels, image.height, image.width) != (channels, height, width):
        if not resize:
            raise AekitError(
                f"{path} is {image.width}x{image.height} with {found_channels} channel(s); the model takes "
                f"{width}x{height} with {channels} (pass --resize to convert)"
            )
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return pixels_chw(image, channels)


def channel_count(image: Image.Image) -> int:
    """1 for a grayscale image (of any bit depth), 3 for anything with colour."""
    return 1 if image.mode in ("1", "L", "LA", "I", "I;16", "F") else 3


def pixels_chw(image: Image.Image, channels: int) -> np.ndarray:
    """An image as float32 (channels, H, W) in [0, 1], converted to gray (1) or RGB (3)."""
    pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype=np.float32) / np.float32(255.0)
    # Contiguous (C, H, W): a transposed view would make stacked batches channels-last in
    # memory, and PyTorch would pick other (slightly differently rounding) conv kernels.
    return np.ascontiguousarray(pixels[None] if channels == 1 else pixels.transpose(2, 0, 1))
