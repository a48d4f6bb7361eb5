"""Golden files: the bytes of small .aez files are pinned, and files an older aekit wrote keep
decoding. After a deliberate format change, regenerate the version-2 files with
``AEKIT_REGENERATE_GOLDEN=1 python -m pytest tests/codec/test_golden.py`` and say why in the
commit (version 1 files were written by the aekit of commit 0bdd264 and are never regenerated).
"""

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from aekit.codec.aez import compress_images, decompress_images, unpack
from aekit.codec.entropy import EntropyModel, fit_entropy_model
from aekit.codec.tables import CodecTables, fit_residual
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


def test_a_version_1_file_still_decodes():
    run = Run(model=build_model(ModelConfig("dense", (1, 8, 8), latent_dim=3, hidden=8)))
    load_weights(run, "v1-model.safetensors")
    tables = EntropyModel.from_json((GOLDEN / "v1-tables.json").read_text())
    data = (GOLDEN / "v1.aez").read_bytes()
    assert unpack(data)[0].version == 1
    np.testing.assert_array_equal(decompress_images(run, tables, data), np.load(GOLDEN / "v1-decoded.npy"))


@pytest.fixture(scope="module")
def version_2():
    """A codec-family run on 8x8 images, its tables (the code's at step 0.002, counted on three
    images only, so that others escape them; the residual's at 16 levels) and 17 images."""
    images = golden_images()
    run = Run(model=build_model(ModelConfig("codec", (1, 8, 8), latent_dim=3, hidden=4), seed=0))
    if REGENERATE:
        save_file(
            {k: v.contiguous() for k, v in run.model.state_dict().items()},
            str(GOLDEN / "v2-model.safetensors"),
        )
        latent = fit_entropy_model(encode(run.model, images[:3]), 0.002)
        tables = CodecTables(latent, fit_residual(run.model, latent, images[:48], 16))
        (GOLDEN / "v2-tables.json").write_text(tables.to_json())
    load_weights(run, "v2-model.safetensors")
    tables = CodecTables.from_json((GOLDEN / "v2-tables.json").read_text())
    return run, tables, np.concatenate([images[48:], np.ones((1, 1, 8, 8), np.float32)])


def test_version_2_bytes_are_pinned(version_2):
    run, tables, images = version_2
    data = compress_images(run, tables, images)
    if REGENERATE:
        (GOLDEN / "v2.aez").write_bytes(data)
        np.save(GOLDEN / "v2-decoded.npy", decompress_images(run, tables, data))
    assert data == (GOLDEN / "v2.aez").read_bytes()
    header, _ = unpack(data)
    assert header.version == 2 and header.residual_step == 16 and header.escapes > 0


def test_the_version_2_golden_file_decodes_to_its_pinned_pixels(version_2):
    run, tables, images = version_2
    restored = decompress_images(run, tables, (GOLDEN / "v2.aez").read_bytes())
    np.testing.assert_array_equal(restored, np.load(GOLDEN / "v2-decoded.npy"))
    assert np.abs(restored - images).max() <= 8.5 / 255 + 1e-6  # half the step, from the rounded input


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10_000), st.binary(min_size=1, max_size=8), st.booleans())
def test_mutated_version_2_files_decode_or_fail_in_one_line(version_2, position, patch, fix_checksum):
    """Random bytes written over the golden file (its escapes and residual included), with and
    without a checksum fixed up to match: images of the right shape, or one clear error."""
    run, tables, _ = version_2
    data = bytearray((GOLDEN / "v2.aez").read_bytes())
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
