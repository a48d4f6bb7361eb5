"""Reading images and codes from what users pass on the command line, and writing them back.

An input is ``mnist:train`` / ``mnist:test``, a ``.npy`` array, PNG/JPEG files, or a folder
of them. Images come out as float32 (N, C, H, W) in [0, 1].
"""

from __future__ import annotations

from pathlib import Path
from tokenize import TokenError

import numpy as np
from PIL import Image

from aekit.data.arrays import as_uint8, codes_to_batch, to_batch
from aekit.data.idx import DATASETS, ImageSet, load_dataset
from aekit.data.images import image_files, read_image
from aekit.errors import AekitError, ParameterError
from aekit.fileio import atomic_folder, atomic_path, refuse_overwrite


def read_images(
    spec: str | Path | list[str | Path],
    shape: tuple[int, int, int],
) -> ImageSet:
    """Images for a model taking ``shape`` = (C, H, W), from a dataset name, .npy, files or a folder.

    Image files are prepared by :func:`aekit.data.images.read_image`, the rules training used.
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
    files = image_files(sources)
    return ImageSet(images=np.stack([read_image(f, tuple(shape)) for f in files]))


def read_codes(path: str | Path, latent_dim: int) -> np.ndarray:
    """Codes (N, latent_dim) as float32 from a .npy file."""
    try:
        return codes_to_batch(load_npy(Path(path)), latent_dim, str(path))[0]
    except ParameterError as exc:
        raise AekitError(
            f"{path}: {exc.problem} (it holds an {exc.value}); regenerate it with 'aekit encode'"
        ) from None


def check_array_output(path: str | Path, force: bool = False) -> None:
    """Refuse, before any work, a .npy output that is misnamed or exists (without ``force``)."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise ParameterError("output", str(path), "arrays are written as .npy; name the output file *.npy")
    if path.is_dir():
        raise ParameterError("output", str(path), "is a folder; name a .npy file")
    refuse_overwrite(path, force)


def check_images_output(out: str | Path, force: bool = False) -> None:
    """Refuse, before any work, an images output (a .npy file or a folder) that already holds
    something, unless ``force``."""
    out = Path(out)
    if out.suffix.lower() == ".npy":
        check_array_output(out, force)
    elif out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ParameterError(
            "output", str(out), "already exists; choose another output or pass --force to replace it"
        )


def write_array(array: np.ndarray, path: str | Path, force: bool = False) -> None:
    """Save ``array`` as .npy, atomically, refusing to replace a file without ``force``."""
    path = Path(path)
    check_array_output(path, force)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array, allow_pickle=False)


def write_images(images: np.ndarray, out: str | Path, force: bool = False) -> None:
    """Write images (N, C, H, W) in [0, 1] as one .npy (N, H, W) or (N, C, H, W), or a folder of PNGs."""
    out = Path(out)
    if out.suffix.lower() == ".npy":
        # Clipped to the pixel range, as PNGs are: the file reads back as images anywhere.
        pixels = np.clip(images, 0, 1)
        write_array(pixels[:, 0] if pixels.shape[1] == 1 else pixels, out, force)
        return
    check_images_output(out, force)
    # Every PNG goes into a hidden folder beside ``out`` that is renamed into place only when
    # complete: an interrupted run leaves no half-filled output to refuse or mistake.
    with atomic_folder(out) as staging:
        digits = max(5, len(str(len(images) - 1)))
        for index, image in enumerate(to_uint8(images)):
            _to_pil(image).save(staging / f"{index:0{digits}d}.png", format="PNG")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float images in [0, 1] -> uint8 (N, H, W, C), rounded and clipped."""
    return as_uint8(images).transpose(0, 2, 3, 1)


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


def load_npy(path: Path) -> np.ndarray:
    """A numeric array from a .npy file whose header is checked against the file's size
    before any data is read, so a header that declares more than the file holds is refused
    without allocating it (and an .npz or pickle under a .npy name is refused too)."""
    if not path.exists():
        raise AekitError(f"{path} does not exist; check the path")
    if not path.is_file():
        raise AekitError(f"{path} is not a regular file; pass a .npy array")
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            readers = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }
            if version not in readers:
                raise ValueError(f".npy format version {version} is not supported")
            shape, fortran, dtype = readers[version](handle, max_header_size=10_000)
            if dtype.hasobject or dtype.kind not in "biuf":
                raise ValueError(f"it holds {dtype} values, not numbers")
            needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
            available = path.stat().st_size - handle.tell()
            if needed != available:
                raise ValueError(
                    f"its header declares {needed:,} bytes of data but the file holds {available:,}"
                )
            array = np.fromfile(handle, dtype=dtype, count=int(np.prod(shape, dtype=object)))
        return array.reshape(shape, order="F" if fortran else "C")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, TokenError, RecursionError) as exc:
        # numpy parses the header as a Python literal: a crafted one fails in many ways.
        raise AekitError(f"{path} is not a readable .npy array ({exc}); save it with numpy.save") from None


def _npy_images(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """Images saved with numpy: uint8 or floats in [0, 1], in any layout the estimator takes."""
    array = load_npy(path)
    try:
        images = to_batch(array, tuple(shape), str(path))[0]
    except ParameterError as exc:
        raise AekitError(f"{path}: {exc.problem} (it holds an {exc.value})") from None
    if images.min() < 0 or images.max() > 1:
        raise AekitError(f"{path} has values outside [0, 1]; divide 8-bit pixels by 255 first")
    return images
