import numpy as np
import pytest
import torch
from torch import nn

from aekit.errors import AekitError
from aekit.inference import decode
from aekit.models import ModelConfig, build_model
from aekit.models.exact import FRACTION_BITS, integer_decoder, sigmoid_table

FAMILIES = {
    "dense": ModelConfig("dense", latent_dim=2, hidden=32),
    "deep": ModelConfig("deep", latent_dim=4, hidden=64),
    "conv": ModelConfig("conv", latent_dim=8, hidden=8),
    "conv-resize": ModelConfig("conv", (3, 20, 12), latent_dim=8, hidden=8, upsample="resize"),
    "vae": ModelConfig("vae", latent_dim=4, hidden=8),
    "codec": ModelConfig("codec", latent_dim=8, hidden=8),
    "hybrid": ModelConfig("hybrid", (1, 16, 16), latent_dim=6, hidden=4),
}


def codes_for(config: ModelConfig, count: int = 40) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 2, (count, config.latent_dim)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_decodes_within_a_level_of_its_float_network(name):
    config = FAMILIES[name]
    model = build_model(config, seed=0)
    if name == "hybrid":  # its corrections start at zero: give them weights to compute
        with torch.no_grad():
            for parameter in model.decoder.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.1)
    codes = codes_for(config)
    levels = integer_decoder(model.decoder)(codes)
    reference = np.clip(np.rint(decode(model, codes) * 255), 0, 255)
    assert levels.dtype == np.uint8 and levels.shape == (len(codes), *config.input_shape)
    assert np.abs(levels.astype(int) - reference).max() <= 1
    assert (levels.astype(int) != reference).mean() < 0.05


def test_the_batch_size_changes_no_value():
    """Every image is computed on its own (GroupNorm's dropped bits too): a CPU and a GPU may
    batch differently and still agree."""
    config = FAMILIES["codec"]
    decoder = integer_decoder(build_model(config, seed=1).decoder)
    codes = codes_for(config, 50)
    codes[3] *= 1e6  # an extreme code, clamped, in the same batch as ordinary ones
    whole = decoder.outputs(codes, batch_size=64)
    np.testing.assert_array_equal(whole, decoder.outputs(codes, batch_size=7))
    np.testing.assert_array_equal(whole[10:20], decoder.outputs(codes[10:20]))
    assert np.array_equal(whole, np.round(whole)) and np.abs(whole).max() <= 2**FRACTION_BITS + 1


def test_the_sigmoid_table_is_monotone_and_spans_zero_to_one():
    table = np.array(sigmoid_table())
    assert len(table) == 2049 and table[1024] == 2**15
    assert table[0] == 0 and table[-1] == 2**16  # sigmoid(-16) and sigmoid(16), at 16 bits
    assert (np.diff(table) >= 0).all()
    np.testing.assert_array_equal(table + table[::-1], 2**16)  # sigmoid(-t) = 1 - sigmoid(t)


def test_layers_it_cannot_compute_exactly_are_refused():
    with pytest.raises(AekitError, match="Tanh"):
        integer_decoder(nn.Sequential(nn.Linear(2, 4), nn.Tanh()))
