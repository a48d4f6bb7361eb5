import gzip
import hashlib

import numpy as np
import pytest

from aekit.datasets import DATA_DIR_VARIABLE, MNIST, IdxDataset, cache_dir, load_dataset, parse_idx
from aekit.errors import AekitError


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake():
    """A tiny IDX dataset (5 train, 3 test images of 28x28) with its checksums."""
    rng = np.random.default_rng(1)
    arrays = {
        "tr-img": rng.integers(0, 256, (5, 28, 28)),
        "tr-lab": rng.integers(0, 10, (5,)),
        "te-img": rng.integers(0, 256, (3, 28, 28)),
        "te-lab": rng.integers(0, 10, (3,)),
    }
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    spec = IdxDataset(
        name="fake",
        sha256={name: hashlib.sha256(b).hexdigest() for name, b in raw.items()},
        splits={"train": ("tr-img", "tr-lab"), "test": ("te-img", "te-lab")},
        mirrors=(),
    )
    return spec, raw, arrays


def write(folder, raw, compress):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in raw.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.mark.parametrize("compress", [False, True])
def test_loads_raw_and_gzip_copies_as_floats_in_unit_range(tmp_path, monkeypatch, fake, compress):
    spec, raw, arrays = fake
    write(tmp_path, raw, compress)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    data = load_dataset("train", spec, download=False)
    assert data.images.shape == (5, 1, 28, 28) and data.images.dtype == np.float32
    np.testing.assert_array_equal(data.images[:, 0] * 255, arrays["tr-img"].astype(np.float32))
    np.testing.assert_array_equal(data.labels, arrays["tr-lab"])


def test_missing_files_name_the_files_folders_and_variable(tmp_path, monkeypatch, fake):
    spec, _, _ = fake
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(AekitError) as err:
        load_dataset("test", spec)
    message = str(err.value)
    for needed in [*spec.sha256, str(tmp_path), DATA_DIR_VARIABLE, "aekit/fake"]:
        assert needed in message


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda b: b"\x00\x00\x09\x03" + b[4:], "magic"),
        (lambda b: b[:-10], "header promises"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum"),
    ],
)
def test_corrupt_files_are_refused(tmp_path, monkeypatch, fake, damage, expected):
    spec, raw, _ = fake
    raw = dict(raw, **{"tr-img": damage(raw["tr-img"])})
    write(tmp_path, raw, compress=True)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(AekitError, match=expected):
        load_dataset("train", spec)


def test_parse_idx_reads_shape_from_header():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array), "x", 0x0803), array)


def test_downloads_from_the_first_mirror_that_works_into_the_cache(tmp_path, monkeypatch, fake):
    spec, raw, arrays = fake
    broken, good = tmp_path / "broken", tmp_path / "good"
    write(good, raw, compress=True)
    write(broken, {k: v[:-3] for k, v in raw.items()}, compress=True)  # wrong checksums
    spec = IdxDataset(spec.name, spec.sha256, spec.splits, (broken.as_uri() + "/", good.as_uri() + "/"))
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    data = load_dataset("test", spec)
    np.testing.assert_array_equal(data.labels, arrays["te-lab"])
    assert (cache_dir(spec) / "te-img.gz").is_file()
    # A second load works with every mirror gone: the verified copy was cached.
    offline = IdxDataset(spec.name, spec.sha256, spec.splits, ())
    assert len(load_dataset("test", offline, download=False)) == 3


def test_real_mnist_has_the_tutorials_sizes(require_mnist):
    train, test = load_dataset("train", MNIST), load_dataset("test", MNIST)
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert 0.0 == train.images.min() and train.images.max() == 1.0
    assert set(np.unique(test.labels)) == set(range(10))
