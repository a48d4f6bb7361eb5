"""Property-based tests: every parser of a file aekit reads either accepts its input or raises
its documented error; nothing else escapes (no TypeError, KeyError, OverflowError...)."""

import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aekit.codec.aez import HEADER, HEADER_V1, MAGIC, VERSION, parse_header, unpack
from aekit.codec.entropy import EntropyModel
from aekit.codec.residual import CONTEXTS
from aekit.codec.tables import CodecTables
from aekit.data.files import load_npy
from aekit.errors import AekitError
from aekit.models.config import ModelConfig
from aekit.runs import _checked_metrics
from aekit.training.checkpoints import _check_metadata
from aekit.training.config import TrainConfig

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELD_VALUES = JSON | st.sampled_from(
    ["dense", "conv", "cosine", "bfloat16", "resize", "transposed", [1, 28, 28], [3, 4096, 4096]]
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["family", "input_shape", "latent_dim", "hidden", "upsample", "other"]), FIELD_VALUES
    )
)
def test_model_config(data):
    try:
        config = ModelConfig.from_dict(data)
    except ValueError:  # ParameterError is a ValueError too
        return
    assert ModelConfig.from_dict(config.to_dict()) == config


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["epochs", "batch_size", "lr", "seed", "schedule", "quantize", "x"]), FIELD_VALUES
    )
)
def test_train_config(data):
    try:
        config = TrainConfig.from_dict(data)
    except ValueError:
        return
    assert TrainConfig.from_dict(config.to_dict()) == config


@FAST
@given(JSON | st.dictionaries(st.sampled_from(["val_mse", "history"]), JSON))
def test_metrics(data):
    try:
        assert isinstance(_checked_metrics(data, Path("metrics.json")), dict)
    except AekitError:
        pass


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            ["epoch", "batch", "running_loss", "train_seconds", "param_groups", "scheduler", "history"]
        ),
        JSON,
    )
)
def test_checkpoint_metadata(data):
    try:
        _check_metadata(data)
    except ValueError:
        pass


@FAST
@given(JSON | st.fixed_dictionaries({"step": JSON, "low": JSON, "counts": JSON}))
def test_entropy_table(data):
    try:
        model = EntropyModel.from_json(json.dumps(data))
    except (ValueError, TypeError) as exc:
        assert isinstance(exc, ValueError), exc
        return
    assert model.probabilities().shape[0] == model.latent_dim


TABLE = st.fixed_dictionaries({"step": JSON, "low": JSON, "counts": JSON})


@FAST
@given(
    JSON
    | st.fixed_dictionaries({"latent": JSON | TABLE, "residual": JSON})
    | st.fixed_dictionaries(
        {"latent": st.just({"step": 1.0, "low": [0], "counts": [[1, 2]]}), "residual": JSON}
    )
    | st.fixed_dictionaries(
        {
            "latent": st.just({"step": 1.0, "low": [0], "counts": [[1, 2]]}),
            "residual": st.fixed_dictionaries({"step": st.integers(-2, 300), "counts": JSON}),
        }
    )
)
def test_codec_tables(data):
    """A run folder's tables file, with a residual layer's tables or without: a consistent
    model or ValueError, nothing else."""
    try:
        tables = CodecTables.from_json(json.dumps(data))
    except (ValueError, TypeError) as exc:
        assert isinstance(exc, ValueError), exc
        return
    assert tables.latent.latent_dim >= 1
    if tables.residual is not None:
        assert tables.residual.probabilities().shape[0] == CONTEXTS


COMMON_FIELDS = (
    st.sampled_from([MAGIC, b"XXXX"]),
    st.integers(0, 255),
    st.binary(min_size=16, max_size=16),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.integers(0, 2**32 - 1),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
)
SIZE = st.integers(0, 2**32 - 1)
# (layout, version, the fields after the version): version 2's, and version 1's shorter header.
HEADERS = st.one_of(
    st.tuples(
        st.just(HEADER),
        st.sampled_from([VERSION, 0, 9]),
        st.tuples(*COMMON_FIELDS, st.integers(0, 65535), SIZE, SIZE, SIZE),
    ),
    st.tuples(st.just(HEADER_V1), st.just(1), st.tuples(*COMMON_FIELDS, SIZE)),
)


@FAST
@given(HEADERS, st.binary(max_size=64))
def test_aez_header_and_framing(header, payload):
    layout, version, (magic, *rest) = header
    body = layout.pack(magic, version, *rest) + payload
    data = body + struct.pack("<I", zlib.crc32(body))
    for parse in (lambda: parse_header(data), lambda: unpack(data), lambda: parse_header(data[:10])):
        try:
            parse()
        except AekitError:
            pass


NPY_HEADERS = st.builds(
    lambda descr, shape, fortran: (
        f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}"
    ),
    st.sampled_from(["<f4", "<f8", "|u1", "|O", "<i8", "|b1", "<c8", "V8", "<U3", "nonsense"]),
    st.tuples() | st.tuples(st.integers(0, 10**13)) | st.tuples(st.integers(0, 50), st.integers(-5, 10**12)),
    st.booleans(),
)


@FAST
@given(
    NPY_HEADERS | st.text(max_size=40),
    st.binary(max_size=256),
    st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x09"]),
)
def test_npy_header(tmp_path_factory, header, data, version):
    path = tmp_path_factory.mktemp("npy") / "x.npy"
    text = header.encode("utf-8", "replace")
    length = struct.pack("<H", len(text) + 1) if version == b"\x01\x00" else struct.pack("<I", len(text) + 1)
    path.write_bytes(b"\x93NUMPY" + version + length + text + b"\n" + data)
    try:
        array = load_npy(path)
    except AekitError:
        return
    assert array.dtype.kind in "biuf"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300, -1])
def test_entropy_table_step_edges(value):
    with pytest.raises(ValueError):
        EntropyModel.from_json(json.dumps({"step": value, "low": [0], "counts": [[1]]}))
