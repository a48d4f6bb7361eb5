"""Golden files: what must be exact is pinned (a version-3 file's bytes and its decoded pixel
levels), and files an older aekit wrote keep decoding within the level they promise.

After a deliberate format change, regenerate the version-3 files with
``AEKIT_REGENERATE_GOLDEN=1 python -m pytest tests/codec/test_golden.py`` and say why in the
commit. Version 1 files were written by the aekit of commit 0bdd264 and version 2 files by
that of commit 9d6b9db; they are never regenerated. Their pixels were computed in floats, so
another machine may decode a pixel one level away from what the writer pinned.
"""

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file

from aekit.codec.aez import FloatDecodingWarning, compress_images, decompress_images, unpack
from aekit.codec.entropy import EntropyModel, fit_entropy_model
from aekit.codec.tables import CodecTables, fit_residual
from aekit.data.arrays import as_uint8
from aekit.errors import AekitError
from aekit.inference import encode
from aekit.models import ModelConfig, build_model
from aekit.runs import Run

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("AEKIT_REGENERATE_GOLDEN") == "1"


def golden_images() -> np.ndarray:
    return np.random.default_rng(7).random((64, 1, 8, 8), dtype=np.float32)


def load_weights(run: Run, name: str) -> Run:
    run.model.load_state_dict(load_file(str(GOLDEN / name)))
    return run


def codec_run() -> Run:
    """The codec-family run of the version-2 and version-3 files, on 8x8 images."""
    run = Run(model=build_model(ModelConfig("codec", (1, 8, 8), latent_dim=3, hidden=4), seed=0))
    return load_weights(run, "v2-model.safetensors")


def test_a_version_1_file_decodes_within_a_level_of_its_writer():
    run = Run(model=build_model(ModelConfig("dense", (1, 8, 8), latent_dim=3, hidden=8)))
    load_weights(run, "v1-model.safetensors")
    tables = EntropyModel.from_json((GOLDEN / "v1-tables.json").read_text())
    data = (GOLDEN / "v1.aez").read_bytes()
    assert unpack(data)[0].version == 1
    with pytest.warns(FloatDecodingWarning, match="version 1"):
        levels = as_uint8(decompress_images(run, tables, data))
    pinned = np.load(GOLDEN / "v1-levels.npy")
    assert np.abs(levels.astype(int) - pinned).max() <= 1


def test_a_version_2_file_decodes_within_a_level_of_its_writer():
    images = golden_images()[48:]
    tables = CodecTables.from_json((GOLDEN / "v2-tables.json").read_text())
    assert not tables.exact
    with pytest.warns(FloatDecodingWarning, match="version 2"):
        restored = decompress_images(codec_run(), tables, (GOLDEN / "v2.aez").read_bytes())
    pinned = np.load(GOLDEN / "v2-levels.npy")
    assert np.abs(as_uint8(restored).astype(int) - pinned).max() <= 1
    # Half the residual step from the rounded input, and a level for the float picture.
    assert np.abs(restored - np.vstack([images, np.ones((1, 1, 8, 8))])).max() <= 9.5 / 255 + 1e-6


@pytest.fixture(scope="module")
def version_3():
    """The codec run, its exact tables (the code's at step 0.002, counted on three images
    only, so that others escape them; the residual's at 16 levels) and 17 images."""
    images = golden_images()
    run = codec_run()
    if REGENERATE:
        latent = fit_entropy_model(encode(run.model, images[:3]), 0.002)
        tables = CodecTables(latent, fit_residual(run.model, latent, images[:48], 16))
        (GOLDEN / "v3-tables.json").write_text(tables.to_json())
    tables = CodecTables.from_json((GOLDEN / "v3-tables.json").read_text())
    return run, tables, np.concatenate([images[48:], np.ones((1, 1, 8, 8), np.float32)])


def test_version_3_bytes_are_pinned(version_3):
    run, tables, images = version_3
    data = compress_images(run, tables, images)
    if REGENERATE:
        (GOLDEN / "v3.aez").write_bytes(data)
        np.save(GOLDEN / "v3-levels.npy", as_uint8(decompress_images(run, tables, data)))
    assert data == (GOLDEN / "v3.aez").read_bytes()
    header, _ = unpack(data)
    assert header.version == 3 and header.residual_step == 16 and header.escapes > 0


def test_the_version_3_golden_file_decodes_to_its_pinned_levels_exactly(version_3):
    run, tables, images = version_3
    restored = decompress_images(run, tables, (GOLDEN / "v3.aez").read_bytes())
    np.testing.assert_array_equal(as_uint8(restored), np.load(GOLDEN / "v3-levels.npy"))
    np.testing.assert_array_equal(restored * 255, np.rint(restored * 255))  # whole levels
    assert np.abs(restored - images).max() <= 8.5 / 255 + 1e-6  # half the step, from the rounded input


@pytest.mark.filterwarnings("ignore::aekit.codec.aez.FloatDecodingWarning")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["v2", "v3"]), st.integers(0, 10_000), st.binary(min_size=1, max_size=8), st.booleans()
)
def test_mutated_golden_files_decode_or_fail_in_one_line(version_3, name, position, patch, fix_checksum):
    """Random bytes written over a golden file (its escapes and residual included), with and
    without a checksum fixed up to match: images of the right shape, or one clear error."""
    run, tables, _ = version_3
    tables = CodecTables.from_json((GOLDEN / f"{name}-tables.json").read_text())
    data = bytearray((GOLDEN / f"{name}.aez").read_bytes())
    position %= len(data)
    data[position : position + len(patch)] = patch
    if fix_checksum:
        data = data[:-4] + struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    try:
        images = decompress_images(run, tables, bytes(data))
    except AekitError as error:
        assert "\n" not in str(error)
    else:
        assert images.shape[1:] == (1, 8, 8) and np.isfinite(images).all()
        assert ((images >= 0) & (images <= 1)).all()


def test_decompress_warns_once_in_one_line_for_an_older_file(tmp_path, capsys):
    from aekit.cli.main import main
    from aekit.codec.tables import tables_path
    from aekit.fileio import atomic_write_text
    from aekit.runs import save_run

    run = Run(model=build_model(ModelConfig("dense", (1, 8, 8), latent_dim=3, hidden=8)))
    load_weights(run, "v1-model.safetensors")
    save_run(run, tmp_path / "run")
    tables = EntropyModel.from_json((GOLDEN / "v1-tables.json").read_text())
    atomic_write_text(tables_path(tmp_path / "run", run.model, tables), tables.to_json())
    code = main(
        ["decompress", str(GOLDEN / "v1.aez"), "--run", str(tmp_path / "run"), "-o", str(tmp_path / "a.npy")]
    )
    err = capsys.readouterr().err
    assert code == 0 and err.count("\n") == 1
    assert err.startswith("aekit: warning: ") and "version 1" in err and "a level" in err
    pinned = np.load(GOLDEN / "v1-levels.npy")
    assert np.abs(np.rint(np.load(tmp_path / "a.npy") * 255) - pinned[:, 0]).max() <= 1


def test_a_version_byte_changed_between_2_and_3_is_refused(version_3):
    """Version 2's residual tables and version 3's were counted differently: a file naming one
    kind under the other version is refused, not decoded to wrong pixels."""
    run, tables, _ = version_3
    for name, version, its_tables in (("v3", 2, tables), ("v2", 3, None)):
        data = bytearray((GOLDEN / f"{name}.aez").read_bytes())
        data[4] = version
        data = data[:-4] + struct.pack("<I", zlib.crc32(bytes(data[:-4])))
        its_tables = its_tables or CodecTables.from_json((GOLDEN / "v2-tables.json").read_text())
        with pytest.raises(AekitError, match="does not match") as caught:
            decompress_images(run, its_tables, bytes(data))
        assert "\n" not in str(caught.value)
