import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.models import ModelConfig, build_model, model_families
from aekit.models.summary import parameter_count


def test_dense_default_has_the_tutorials_parameter_counts():
    model = build_model(ModelConfig())
    assert parameter_count(model.encoder) == 236_102
    assert parameter_count(model.decoder) == 236_884
    assert parameter_count(model) == 472_986


def test_dense_sizes_are_parameters():
    model = build_model(ModelConfig(latent_dim=5, hidden=64))
    codes = model.encode(torch.rand(3, 1, 28, 28))
    assert codes.shape == (3, 5)
    assert parameter_count(model.encoder) == 784 * 64 + 64 + 64 * 5 + 5


def test_keras_initialisation_zero_biases_and_glorot_bound():
    model = build_model(ModelConfig(), seed=0)
    first = model.encoder.dense_1
    assert torch.count_nonzero(first.bias) == 0
    bound = np.sqrt(6 / (784 + 300))
    assert first.weight.abs().max() <= bound
    assert first.weight.abs().max() > 0.95 * bound  # uniform over the whole Glorot range
    assert model.encoder.leakyrelu_1.negative_slope == 0.3


@pytest.mark.parametrize("family", model_families())
def test_encoder_and_decoder_work_apart(family):
    model = build_model(ModelConfig(family=family, latent_dim=3))
    images = torch.rand(4, 1, 28, 28)
    codes = model.encoder(images)
    assert codes.shape == (4, 3)
    # The decoder accepts codes the encoder never made, such as a grid of points.
    grid = torch.cartesian_prod(torch.linspace(-1, 1, 2), torch.linspace(-1, 1, 2), torch.zeros(1))
    assert model.decoder(grid).shape == (4, 1, 28, 28)
    torch.testing.assert_close(model(images), model.decode(model.encode(images)))


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model(ModelConfig(), seed=7)
    after = torch.rand(1)
    b = build_model(ModelConfig(), seed=7)
    assert torch.equal(before, after)
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_unknown_family_is_a_clear_error():
    with pytest.raises(
        AekitError,
        match="family='nope': unknown model family; choose one of codec, conv, deep, dense, hybrid, vae",
    ):
        build_model(ModelConfig(family="nope"))


@pytest.mark.parametrize("family", ["conv", "vae", "hybrid"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 48), (3, 33, 17), (1, 9, 9)])
def test_convolutional_families_take_any_size_and_channel_count(family, shape):
    model = build_model(ModelConfig(family=family, input_shape=shape, latent_dim=5, hidden=4))
    images = torch.rand(2, *shape)
    assert model.encode(images).shape == (2, 5)
    output = model.eval()(images)
    assert output.shape == (2, *shape)
    assert output.min() >= 0 and output.max() <= 1  # sigmoid, or hybrid's clip: the pixel range


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 33, 17)])
def test_a_resizing_decoder_has_no_transposed_convolution_and_keeps_the_size(shape):
    config = ModelConfig(family="conv", input_shape=shape, latent_dim=5, hidden=4, upsample="resize")
    model = build_model(config)
    assert not any(isinstance(layer, torch.nn.ConvTranspose2d) for layer in model.decoder.modules())
    assert model.decode(torch.zeros(2, 5)).shape == (2, *shape)


def test_upsampling_is_the_recipes_and_old_configs_keep_transposed_convolutions():
    assert ModelConfig(family="conv").upsample == "transposed"
    assert ModelConfig(family="hybrid").upsample == "resize"
    saved_before_the_setting = {"family": "hybrid", "input_shape": [3, 32, 32], "latent_dim": 8, "hidden": 4}
    old = build_model(ModelConfig.from_dict(saved_before_the_setting))
    assert any(isinstance(layer, torch.nn.ConvTranspose2d) for layer in old.decoder.modules())
    with pytest.raises(AekitError, match="upsample='bilinear': must be one of transposed, resize"):
        ModelConfig(family="conv", upsample="bilinear")


def test_every_family_but_dense_has_its_own_recipe():
    from aekit.models import family_recipe

    assert family_recipe("dense") == {"hidden": 300}
    assert {"hidden", "epochs", "lr"} <= set(family_recipe("deep"))
    for family in ("conv", "vae", "hybrid"):  # counted in optimizer steps, whatever the dataset's size
        assert {"hidden", "steps", "lr"} <= set(family_recipe(family))
