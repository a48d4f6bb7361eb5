"""The one image reader: every command that reads PNG/JPEG files reads them here, by the same rules.

- Files: ``.png``, ``.jpg``, ``.jpeg`` (any case); folders are walked with their subfolders;
  hidden files are ignored; any other file is an error (or skipped with ``skip_bad``).
- Size: an image over :data:`MAX_PIXELS` is refused before it is decoded.
- Orientation: the EXIF orientation tag is applied, so phone photos load upright.
- Depth: 16-bit images are scaled by their full range (0..65535), 8-bit by 0..255.
- Alpha: transparent pixels are composited over black (colour times alpha).
- Palette images are converted to colour before anything else.
- Shape: scaled (Lanczos) so the image covers the target, then centre-cropped to it; for a
  square target that is "shorter side to the target size, centre crop". Colour becomes gray
  by ITU-R 601 luma.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from aekit.errors import AekitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Refuse images larger than this before decoding them: a small file can declare a huge
# image (a "decompression bomb") and exhaust memory.
MAX_PIXELS = 50_000_000
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def image_files(sources: list[str | Path], skip_bad: bool = False) -> list[Path]:
    """Every image file named in ``sources`` (files, or folders walked recursively), in order."""
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            found = []
            for path in sorted(p for p in source.rglob("*") if not p.name.startswith(".") and not p.is_dir()):
                # A broken or looping link, a FIFO or a device is no image either: never silently dropped.
                problem = (
                    "" if path.is_file() else "not a regular file (a broken or looping link, or a device)"
                )
                if not problem and path.suffix.lower() not in IMAGE_SUFFIXES:
                    problem = "not a PNG or JPEG file"
                if not problem:
                    found.append(path)
                elif skip_bad:
                    warnings.warn(f"skipping {path}: {problem}", stacklevel=2)
                else:
                    raise AekitError(f"{path} is {problem}; remove it or pass --skip-bad")
            if not found:
                raise AekitError(f"{source} holds no PNG or JPEG images")
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


def open_image(path: Path) -> Image.Image:
    """The image in ``path``, header read but pixels not decoded; refuses decompression bombs."""
    try:
        # Pillow warns (on stderr) of images between its own limit and twice it; ours, below,
        # is lower and refuses them in one line instead.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
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


def channel_count(image: Image.Image) -> int:
    """1 for a grayscale image (of any bit depth), 3 for anything with colour."""
    return 1 if image.mode in ("1", "L", "LA", "F", *_SIXTEEN_BIT) else 3


def read_image(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """The image in ``path`` as float32 (C, H, W) in [0, 1], prepared by the rules above.

    8-bit images are composited and scaled in 8 bits, so a 50-Mpixel image needs a few
    hundred megabytes, not gigabytes; 16-bit ones are scaled as floats to keep their depth.
    """
    channels, height, width = shape
    with open_image(path) as image:
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in _SIXTEEN_BIT:
                gray = np.asarray(image, dtype=np.float32) / np.float32(65535.0)
                plane = _cover_and_crop(Image.fromarray(np.clip(gray, 0, 1), mode="F"), width, height)
                pixels = np.repeat(np.asarray(plane, dtype=np.float32)[None], channels, axis=0)
            else:
                fitted = _cover_and_crop(_eight_bit(image, channels), width, height)
                pixels = np.asarray(fitted, dtype=np.float32) / np.float32(255.0)
                pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise AekitError(f"{path} cannot be decoded ({exc}); remove it or pass --skip-bad") from None
    # Contiguous (C, H, W): a transposed view would make stacked batches channels-last in
    # memory, and PyTorch would pick other (slightly differently rounding) conv kernels.
    return np.ascontiguousarray(np.clip(pixels, 0, 1))


def _eight_bit(image: Image.Image, channels: int) -> Image.Image:
    """An 8-bit image as gray ("L") or "RGB": palettes resolved first, alpha applied over black."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.composite(rgba, Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba.getchannel("A"))
    return image.convert("L" if channels == 1 else "RGB")


def _cover_and_crop(plane: Image.Image, width: int, height: int) -> Image.Image:
    if plane.size == (width, height):
        return plane
    scale = max(width / plane.width, height / plane.height)
    new_w, new_h = max(width, round(plane.width * scale)), max(height, round(plane.height * scale))
    # reducing_gap: a box reduction first when shrinking a lot, then Lanczos; much faster on
    # large photos and indistinguishable at the sizes aekit trains on.
    plane = plane.resize((new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return plane.crop((left, top, left + width, top + height))
