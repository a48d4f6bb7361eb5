import gzip
import hashlib

import numpy as np
import pytest

from aekit.data.idx import DATA_DIR_VARIABLE, DATASETS, MNIST, IdxDataset, cache_dir, load_dataset, parse_idx
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
    write(tmp_path / "fake", raw, compress)  # a dataset's own subfolder of the data folder
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
    for needed in [*spec.sha256, str(tmp_path / "fake"), DATA_DIR_VARIABLE, "aekit/fake"]:
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
    write(tmp_path / "fake", raw, compress=True)
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
    spec = IdxDataset(spec.name, spec.splits, (broken.as_uri() + "/", good.as_uri() + "/"), spec.sha256)
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    data = load_dataset("test", spec)
    np.testing.assert_array_equal(data.labels, arrays["te-lab"])
    assert (cache_dir(spec) / "te-img.gz").is_file()
    # A second load works with every mirror gone: the verified copy was cached.
    offline = IdxDataset(spec.name, spec.splits, (), spec.sha256)
    assert len(load_dataset("test", offline, download=False)) == 3


def test_real_mnist_has_the_tutorials_sizes(require_mnist):
    train, test = load_dataset("train", MNIST), load_dataset("test", MNIST)
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert 0.0 == train.images.min() and train.images.max() == 1.0
    assert set(np.unique(test.labels)) == set(range(10))


def md5_spec(raw: dict[str, bytes], folder) -> IdxDataset:
    """Like KMNIST: only the MD5 of each published .gz file is known."""
    packed = {name: gzip.compress(data, mtime=0) for name, data in raw.items()}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in packed.items():
        (folder / f"{name}.gz").write_bytes(data)
    return IdxDataset(
        name="gzonly",
        splits={"train": ("tr-img", "tr-lab"), "test": ("te-img", "te-lab")},
        mirrors=(),
        gz_md5={name: hashlib.md5(data).hexdigest() for name, data in packed.items()},
    )


def test_datasets_known_by_the_md5_of_their_gz_files(tmp_path, monkeypatch, fake):
    _, raw, arrays = fake
    spec = md5_spec(raw, tmp_path / "gzonly")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    np.testing.assert_array_equal(load_dataset("test", spec, download=False).labels, arrays["te-lab"])
    # Recompressed (same content, other bytes) or raw copies cannot be checked, so are refused.
    (tmp_path / "gzonly" / "te-img.gz").write_bytes(gzip.compress(raw["te-img"], compresslevel=1))
    with pytest.raises(AekitError, match="published .gz"):
        load_dataset("test", spec, download=False)


def test_other_datasets_are_not_looked_for_beside_mnist(tmp_path, monkeypatch, fake):
    """MNIST's files may sit in the data folder itself; others share their names, so only
    their own subfolder counts."""
    _, raw, _ = fake
    spec = md5_spec(raw, tmp_path)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(AekitError, match="not found"):
        load_dataset("test", spec, download=False)


def test_fashion_mnist_and_kmnist_are_registered():
    assert {"mnist", "fashion-mnist", "kmnist"} <= set(DATASETS)
    assert len(DATASETS["kmnist"].gz_md5) == 4 and DATASETS["kmnist"].mirrors
    assert len(DATASETS["fashion-mnist"].sha256) == 4 and DATASETS["fashion-mnist"].mirrors


def test_fashion_mnist_loads_from_a_recompressed_copy_beside_mnist(monkeypatch):
    """Debian's copy (other .gz wrappers than the published ones) verifies by the SHA-256 of
    its content, from the dataset's own subfolder of the data folder."""
    import os
    from pathlib import Path

    root = Path(os.environ.get(DATA_DIR_VARIABLE, "/nonexistent"))
    if not (root / "fashion-mnist").is_dir():
        root = root.parent  # the folder CI names is data/mnist; Fashion-MNIST sits beside it
    if not (root / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST is not beside MNIST here")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
    test = load_dataset("test", "fashion-mnist", download=False)
    assert test.images.shape == (10_000, 1, 28, 28)
    assert np.bincount(test.labels).tolist() == [1000] * 10


def test_md5_datasets_download_and_verify_like_mnist(tmp_path, monkeypatch, fake):
    _, raw, arrays = fake
    mirror = tmp_path / "mirror"
    published = md5_spec(raw, mirror)
    spec = IdxDataset(published.name, published.splits, (mirror.as_uri() + "/",), gz_md5=published.gz_md5)
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    np.testing.assert_array_equal(load_dataset("train", spec).labels, arrays["tr-lab"])
    assert (cache_dir(spec) / "tr-img.gz").read_bytes() == (mirror / "tr-img.gz").read_bytes()
    # A mirror serving other bytes is not used.
    tampered = IdxDataset("tampered", spec.splits, spec.mirrors, gz_md5={k: "0" * 32 for k in spec.gz_md5})
    with pytest.raises(AekitError, match="could not be downloaded"):
        load_dataset("train", tampered)


def test_datasets_can_be_named_by_their_names(require_mnist):
    from aekit.errors import ParameterError

    by_name = load_dataset("test", "mnist", limit=5)
    assert by_name.images.shape == (5, 1, 28, 28)
    with pytest.raises(ParameterError, match="dataset='nope'"):
        load_dataset("train", "nope")


def test_load_mnist_gives_what_keras_gives(require_mnist):
    import aekit

    (x_train, y_train), (x_test, y_test) = aekit.load_mnist()
    assert x_train.shape == (60_000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
