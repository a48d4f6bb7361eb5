import numpy as np
import pytest
from PIL import Image

from aekit.data.files import read_codes, read_images, write_array, write_images
from aekit.errors import AekitError

SHAPE = (1, 28, 28)


def test_png_folder_round_trip_is_exact_to_8_bits(tmp_path, toy_images):
    images = np.round(toy_images * 255) / 255
    write_images(images[:5], tmp_path / "pngs")
    back = read_images(tmp_path / "pngs", SHAPE).images
    np.testing.assert_allclose(back, images[:5], atol=1e-6)


def test_npy_accepts_flat_square_and_channel_layouts(tmp_path, toy_images):
    for name, array in [
        ("flat.npy", toy_images.reshape(64, 784)),
        ("square.npy", toy_images[:, 0]),
        ("nchw.npy", toy_images),
        ("uint8.npy", (toy_images * 255).astype(np.uint8)),
    ]:
        np.save(tmp_path / name, array)
        np.testing.assert_allclose(read_images(tmp_path / name, SHAPE).images, toy_images)


@pytest.mark.parametrize(
    "array, expected",
    [
        (np.zeros((3, 27, 28), np.float32), r"shape \(3, 27, 28\)"),
        (np.full((3, 784), 2.0, np.float32), r"outside \[0, 1\]"),
        (np.zeros((3, 784), np.int32), r"pixels must be uint8 \(0..255\) or floats in \[0, 1\]"),
    ],
)
def test_bad_npy_images_are_refused(tmp_path, array, expected):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(AekitError, match=expected):
        read_images(tmp_path / "bad.npy", SHAPE)


def test_corrupt_npy_names_the_file(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(AekitError, match="bad.npy is not a readable .npy"):
        read_images(tmp_path / "bad.npy", SHAPE)


def test_image_of_another_size_and_colour_is_prepared_as_training_prepares_it(tmp_path):
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "big.png")
    images = read_images(tmp_path / "big.png", SHAPE).images
    assert images.shape == (1, 1, 28, 28)
    # Pure red's ITU-R 601 luma is 76/255.
    np.testing.assert_allclose(images, 76 / 255, atol=1e-3)


def test_not_an_image_is_refused(tmp_path):
    (tmp_path / "fake.png").write_text("hello")
    with pytest.raises(AekitError, match="fake.png is not a readable image"):
        read_images(tmp_path / "fake.png", SHAPE)


def test_codes_round_trip_and_no_silent_overwrite(tmp_path):
    codes = np.arange(6, dtype=np.float32).reshape(3, 2)
    write_array(codes, tmp_path / "c.npy")
    np.testing.assert_array_equal(read_codes(tmp_path / "c.npy", 2), codes)
    with pytest.raises(AekitError, match="--force"):
        write_array(codes, tmp_path / "c.npy")
    with pytest.raises(AekitError, match=r"expected \(N, 3\) codes"):
        read_codes(tmp_path / "c.npy", 3)
