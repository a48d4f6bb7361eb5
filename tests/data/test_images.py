"""The one image reader's rules: orientation, bit depth, alpha, palette, cropping, limits."""

import numpy as np
import pytest
from PIL import Image

from aekit.data import images
from aekit.data.images import image_files, read_image
from aekit.errors import AekitError


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((20, 40), np.uint8)
    pixels[:, :20] = 255  # left half white, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "phone.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "phone.jpg", (1, 40, 20))
    # Displayed upright the picture is 20 wide and 40 tall, white on top.
    assert shown[0, :15].mean() > 0.9 and shown[0, 25:].mean() < 0.1


def test_sixteen_bit_images_are_scaled_by_their_full_range(tmp_path):
    ramp = np.linspace(0, 65535, 16 * 16).reshape(16, 16).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    pixels = read_image(tmp_path / "deep.png", (1, 16, 16))
    np.testing.assert_allclose(pixels[0], ramp / 65535, atol=1e-6)


def test_alpha_is_composited_over_black_and_palettes_are_converted_first(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[..., 3] = 255
    rgba[:, :4, 3] = 0  # left half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    pixels = read_image(tmp_path / "a.png", (3, 8, 8))
    assert np.allclose(pixels[:, :, :4], 0) and np.allclose(pixels[:, :, 4:], 200 / 255)
    palette = Image.new("P", (8, 8))
    palette.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    palette.putdata([1] * 64)  # every pixel is index 1: white
    palette.save(tmp_path / "p.png")
    # Resized as colours, not as palette indices (which would average to about 1/255).
    assert read_image(tmp_path / "p.png", (1, 4, 4)).min() > 0.99


def test_shorter_side_is_scaled_then_centre_cropped(tmp_path):
    pixels = np.zeros((10, 30), np.uint8)
    pixels[:, 10:20] = 255  # a white middle third
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    out = read_image(tmp_path / "wide.png", (1, 10, 10))
    assert out.min() > 0.95


def test_folders_are_walked_and_other_files_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "sub" / "a.png")
    Image.new("L", (4, 4)).save(tmp_path / "b.JPG")
    assert sorted(p.name for p in image_files([tmp_path])) == ["a.png", "b.JPG"]
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(AekitError, match="notes.txt is not a PNG or JPEG"):
        image_files([tmp_path])
    assert len(image_files([tmp_path], skip_bad=True)) == 2


def test_the_pixel_limit_applies_before_decoding(tmp_path, monkeypatch):
    Image.new("L", (20, 20)).save(tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(AekitError, match="over the limit of 100"):
        read_image(tmp_path / "big.png", (1, 4, 4))
