import numpy as np
import pytest
import torch
from torch import nn

from aekit.codec.exact import FRACTION_BITS, integer_network, to_pixel_levels
from aekit.errors import AekitError


def small_network(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 10))


def test_integer_outputs_follow_the_float_network():
    network = small_network()
    inputs = np.random.default_rng(0).integers(-20, 21, size=(50, 6))
    exact = integer_network(network, input_scale=0.5, input_bound=20)(inputs)
    with torch.no_grad():
        reference = network(torch.tensor(inputs * 0.5, dtype=torch.float32)).numpy()
    assert np.array_equal(exact, np.round(exact))  # whole numbers
    np.testing.assert_allclose(exact / 2**FRACTION_BITS, reference, atol=0.02)


def test_the_order_of_summation_does_not_change_a_bit():
    """Reordering the hidden units reorders every sum of the last layer; float arithmetic
    would move last bits, integer arithmetic in float64 cannot."""
    network = small_network()
    permuted = small_network()
    order = torch.randperm(32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        permuted[0].weight.copy_(network[0].weight[order])
        permuted[0].bias.copy_(network[0].bias[order])
        permuted[2].weight.copy_(network[2].weight[:, order])
        permuted[2].bias.copy_(network[2].bias)
    inputs = np.random.default_rng(2).integers(-20, 21, size=(200, 6))
    first = integer_network(network, 0.5, 20)(inputs)
    second = integer_network(permuted, 0.5, 20)(inputs)
    assert np.array_equal(first, second)
    assert np.array_equal(first[:7], integer_network(network, 0.5, 20)(inputs[:7]))  # batch size neither


def test_inputs_beyond_the_bound_are_clipped_not_overflowing():
    network = integer_network(small_network(), 0.5, 20)
    assert np.array_equal(network(np.full((1, 6), 10**12)), network(np.full((1, 6), 20)))


def test_only_linear_and_relu_chains_convert():
    with pytest.raises(AekitError, match="Linear and ReLU"):
        integer_network(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()), 1.0, 10)


def test_pixel_levels_round_and_clip():
    outputs = np.array([[-5.0, 0.0, 2**FRACTION_BITS / 2, 2**FRACTION_BITS, 3 * 2**FRACTION_BITS]])
    assert to_pixel_levels(outputs).tolist() == [[0, 0, 128, 255, 255]]
