import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aekit.codec.aez import HEADER, MAGIC, compress_images, decompress_images, unpack
from aekit.codec.entropy import fit_entropy_model
from aekit.errors import AekitError
from aekit.inference import decode, encode
from aekit.models import ModelConfig, build_model
from aekit.models.exact import integer_decoder
from aekit.runs import Run


def make_codec(seed=0, step=0.05):
    rng = np.random.default_rng(1)
    images = rng.random((200, 1, 28, 28), dtype=np.float32)
    run = Run(model=build_model(ModelConfig(latent_dim=4, hidden=16), seed=seed))
    return run, fit_entropy_model(encode(run.model, images), step), images


@pytest.fixture(scope="module")
def codec():
    run, entropy_model, images = make_codec()
    return run, entropy_model, images, compress_images(run, entropy_model, images[:50])


def with_checksum(body: bytes) -> bytes:
    """A file whose checksum is right for ``body``: damage the checksum alone cannot catch."""
    return body + struct.pack("<I", zlib.crc32(body))


def exact_pixels(run, codes):
    """The exact integer decoder's levels of ``codes``, as decompression returns them."""
    return integer_decoder(run.model.decoder)(codes).astype(np.float32) / 255


def test_decompress_gives_the_exact_decoder_output_of_the_rounded_codes(codec):
    run, entropy_model, images, data = codec
    restored = decompress_images(run, entropy_model, data)
    rounded = entropy_model.codes(entropy_model.symbols(encode(run.model, images[:50])))
    assert restored.shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(restored, exact_pixels(run, rounded))
    # The float network's picture, rounded to levels, is within one level of it.
    assert np.abs(restored - np.clip(decode(run.model, rounded), 0, 1)).max() <= 1.5 / 255


def test_same_input_same_bytes(codec):
    run, entropy_model, images, data = codec
    assert compress_images(run, entropy_model, images[:50]) == data


def test_header_records_shape_count_and_step(codec):
    _, entropy_model, _, data = codec
    header, payload = unpack(data)
    assert (header.shape, header.latent_dim, header.count) == ((1, 28, 28), 4, 50)
    assert header.step == pytest.approx(entropy_model.step)
    assert len(payload.latent) == header.payload_size == len(data) - HEADER.size - 4
    assert (header.version, header.escapes, header.residual_step) == (3, 0, 0)


def test_codes_outside_the_tables_are_coded_exactly_not_clipped(codec):
    """Tables counted on three images cannot hold the others' codes: those escape and come
    back as the exact multiples of the step they were rounded to."""
    run, _, images, _ = codec
    narrow = fit_entropy_model(encode(run.model, images[:3]), 0.05)
    codes = encode(run.model, images[100:150])
    _, escapes = narrow.escaped_symbols(codes)
    assert len(escapes) > 10
    data = compress_images(run, narrow, images[100:150])
    assert unpack(data)[0].escapes == len(escapes)
    exact = (np.rint(codes.astype(np.float64) / 0.05) * 0.05).astype(np.float32)
    np.testing.assert_array_equal(decompress_images(run, narrow, data), exact_pixels(run, exact))


def test_the_bytes_do_not_depend_on_the_thread_count(codec):
    import torch

    run, entropy_model, images, data = codec
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = compress_images(run, entropy_model, images[:50])
    finally:
        torch.set_num_threads(threads)
    assert single == data


def test_a_codec_file_with_a_residual_does_not_depend_on_the_thread_count():
    """The codec family in its fast precision (bfloat16 where the CPU has it), code and
    residual layer: one thread and two give the same bytes, and they decode exactly."""
    import torch

    from aekit.codec.tables import CodecTables, fit_residual
    from aekit.training.config import TrainConfig

    images = np.random.default_rng(3).random((120, 1, 28, 28), dtype=np.float32)
    run = Run(
        model=build_model(ModelConfig("codec", latent_dim=8, hidden=4), seed=0),
        training=TrainConfig(precision="auto"),
    )
    precision = run.training.precision
    latent = fit_entropy_model(encode(run.model, images[:100], precision=precision), 0.01)
    tables = CodecTables(latent, fit_residual(run.model, latent, images[:100], 8, precision))
    threads = torch.get_num_threads()
    files = []
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            files.append(compress_images(run, tables, images[100:]))
    finally:
        torch.set_num_threads(threads)
    assert files[0] == files[1]
    restored = decompress_images(run, tables, files[0])
    assert np.abs(restored - images[100:]).max() <= 4.5 / 255 + 1e-6


def damaged_files(data: bytes) -> dict[str, tuple[bytes, str]]:
    body = data[:-4]
    header = bytearray(body)
    version = bytearray(body)
    version[4] = 9
    count = bytearray(body)
    struct.pack_into("<I", count, 4 + 1 + 1 + 16 + 8, 4_000_000)
    zero = bytearray(body)
    struct.pack_into("<I", zero, 4 + 1 + 1 + 16 + 8, 0)
    header[0:4] = b"PK\x03\x04"
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    return {
        "truncated": (data[:-7], "truncated"),
        "empty": (b"", "too short"),
        "bit flipped": (bytes(flipped), "checksum"),
        "wrong magic": (with_checksum(bytes(header)), "not an .aez file"),
        "unknown version": (with_checksum(bytes(version)), "version 9"),
        "absurd count": (with_checksum(bytes(count)), "more than the header's count"),
        "zero count": (with_checksum(bytes(zero)), "0 images"),
    }


@pytest.mark.parametrize(
    "kind",
    ["truncated", "empty", "bit flipped", "wrong magic", "unknown version", "absurd count", "zero count"],
)
def test_damaged_files_are_clear_errors(codec, kind):
    run, entropy_model, _, data = codec
    bad, fragment = damaged_files(data)[kind]
    with pytest.raises(AekitError, match=fragment) as error:
        decompress_images(run, entropy_model, bad, "x.aez", max_images=10**7)
    assert str(error.value).startswith("x.aez")


def test_more_images_than_the_limit_are_refused_before_decoding(codec):
    run, entropy_model, _, data = codec
    bad = damaged_files(data)["absurd count"][0]
    with pytest.raises(AekitError, match="declares 4,000,000 images, more than the 342,392"):
        decompress_images(run, entropy_model, bad, "x.aez")


def test_a_file_from_another_model_is_refused(codec):
    _, _, images, data = codec
    other_run, other_entropy, _ = make_codec(seed=1)
    with pytest.raises(AekitError, match="another model"):
        decompress_images(other_run, other_entropy, data)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=8), st.booleans()),
    )
)
def test_fuzz_never_crashes(codec, attack):
    """Random files, and real files with random bytes overwritten (with and without a fixed-up
    checksum), give either images of the right shape or an AekitError: nothing else."""
    run, entropy_model, _, data = codec
    if isinstance(attack, bytes):
        candidate = MAGIC + attack if attack[:1] == b"\x00" else attack
    else:
        position, patch, fix_checksum = attack
        position %= len(data)
        mutated = bytearray(data)
        mutated[position : position + len(patch)] = patch
        candidate = with_checksum(bytes(mutated[:-4])) if fix_checksum else bytes(mutated)
    try:
        images = decompress_images(run, entropy_model, candidate)
    except AekitError as error:
        assert "\n" not in str(error)
    else:
        assert images.shape[1:] == (1, 28, 28) and np.isfinite(images).all()
