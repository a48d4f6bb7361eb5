import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.inference import decode, encode, reconstruct
from aekit.models import ModelConfig, build_model


@pytest.fixture
def model():
    return build_model(ModelConfig(hidden=16, latent_dim=3), seed=0)


def test_encode_then_decode_equals_reconstruct_in_any_batch_size(model, toy_images):
    codes = encode(model, toy_images, batch_size=7)
    assert codes.shape == (64, 3) and codes.dtype == np.float32
    images = decode(model, codes, batch_size=64)
    assert images.shape == (64, 1, 28, 28)
    np.testing.assert_allclose(images, reconstruct(model, toy_images, batch_size=10), rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(
            codes, model.encoder(torch.as_tensor(toy_images)).numpy(), rtol=1e-5, atol=1e-6
        )


def test_wrong_shapes_are_clear_errors(model, toy_images):
    with pytest.raises(AekitError, match=r"takes \(N, 1, 28, 28\)"):
        encode(model, toy_images[:, :, :20])
    with pytest.raises(AekitError, match=r"decodes \(N, 3\)"):
        decode(model, np.zeros((4, 2), np.float32))


def test_bfloat16_inference_is_float32_out_and_close_to_exact(model, toy_images):
    exact = reconstruct(model, toy_images)
    mixed = reconstruct(model, toy_images, precision="bfloat16")
    assert mixed.dtype == np.float32 and not np.array_equal(mixed, exact)
    # bfloat16 keeps 8 significant bits: pixels agree to about 1% of their range.
    np.testing.assert_allclose(mixed, exact, atol=0.02)
    with pytest.raises(AekitError, match="precision='half'"):
        encode(model, toy_images, precision="half")
