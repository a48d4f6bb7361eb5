import numpy as np
import pytest

from aekit.codec.entropy import EntropyModel, decode_symbols, encode_symbols, fit_entropy_model
from aekit.errors import AekitError


@pytest.fixture
def codes():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4000, 6)) * np.array([0.5, 1, 2, 4, 8, 16])


def test_round_trip_is_exact_and_costs_what_the_model_predicts(codes):
    model = fit_entropy_model(codes, step=1.0)
    symbols = model.symbols(codes)
    payload = encode_symbols(model, symbols)
    assert np.array_equal(decode_symbols(model, payload, len(codes)), symbols)
    predicted_bytes = model.bits(symbols) / 8
    assert abs(len(payload) - predicted_bytes) / predicted_bytes < 0.02


def test_quantised_codes_are_within_half_a_step(codes):
    model = fit_entropy_model(codes, step=0.25)
    assert np.abs(model.codes(model.symbols(codes)) - codes).max() <= 0.125 + 1e-6


def test_wider_dimensions_cost_more_bits(codes):
    # The dimensions' spreads double one after another, so each should cost about one bit
    # more per code than the last.
    model = fit_entropy_model(codes, step=1.0)
    symbols = model.symbols(codes)
    table = model.probabilities()
    bits = [-np.log2(table[d, symbols[:, d]]).mean() for d in range(model.latent_dim)]
    assert bits == sorted(bits)
    assert sum(bits) * len(codes) == pytest.approx(model.bits(symbols))


def test_codes_beyond_the_training_range_are_clipped_to_it(codes):
    model = fit_entropy_model(codes, step=1.0)
    far = np.full((3, codes.shape[1]), 1e6)
    symbols = model.symbols(far)
    assert np.array_equal(symbols, np.asarray([[len(row) - 1 for row in model.counts]] * 3))
    assert np.array_equal(decode_symbols(model, encode_symbols(model, symbols), 3), symbols)


def test_json_round_trip_and_damage(codes):
    model = fit_entropy_model(codes, step=0.5)
    assert EntropyModel.from_json(model.to_json()) == model
    with pytest.raises(ValueError):
        EntropyModel.from_json('{"step": -1, "low": [0], "counts": [[1]]}')
    with pytest.raises(ValueError):
        EntropyModel.from_json('{"step": 1, "low": [0, 1], "counts": [[1]]}')


def test_payload_with_another_count_is_refused(codes):
    model = fit_entropy_model(codes, step=1.0)
    payload = encode_symbols(model, model.symbols(codes[:100]))
    with pytest.raises(ValueError):
        decode_symbols(model, payload, 99)
    with pytest.raises(ValueError):
        decode_symbols(model, payload[:-1], 100)


def test_bad_steps_are_clear_errors(codes):
    with pytest.raises(AekitError, match=r"step=0.0: must be between 1e-06 and 1e\+06"):
        fit_entropy_model(codes, step=0.0)
    with pytest.raises(AekitError, match="larger --step"):
        fit_entropy_model(codes * 1e6, step=1e-3)
