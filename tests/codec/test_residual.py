import json

import numpy as np
import pytest

from aekit.codec.residual import (
    CONTEXTS,
    ResidualModel,
    contexts,
    decode_residual,
    encode_residual,
    fit_residual_model,
    quantise,
    reconstruct,
)
from aekit.errors import ParameterError


@pytest.fixture
def pictures():
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, size=(20, 1, 12, 12))
    predicted = np.clip(originals + rng.integers(-30, 31, size=originals.shape), 0, 255)
    return originals, predicted


@pytest.mark.parametrize("step", [1, 3, 16, 64, 255])
def test_every_pixel_lands_within_half_a_step(pictures, step):
    originals, predicted = pictures
    restored = reconstruct(predicted, quantise(originals, predicted, step), step)
    assert np.abs(restored.astype(int) - originals).max() <= step // 2
    if step == 1:
        assert np.array_equal(restored, originals)


@pytest.mark.parametrize("step", [1, 8, 48])
def test_coded_errors_decode_exactly(pictures, step):
    originals, predicted = pictures
    errors = quantise(originals, predicted, step)
    context = contexts(predicted)
    model = fit_residual_model(errors[:10], context[:10], step)  # tables from other images
    payload = encode_residual(model, errors[10:], context[10:])
    assert np.array_equal(decode_residual(model, payload, context[10:]), errors[10:])
    with pytest.raises(ValueError):
        decode_residual(model, payload, context[10:15])  # more data than pixels


def test_each_context_counts_its_own_pixels(pictures):
    originals, predicted = pictures
    context = contexts(predicted)
    errors = quantise(originals, predicted, 4)
    model = fit_residual_model(errors, context, 4)
    per_context = np.bincount(context.ravel(), minlength=CONTEXTS)
    assert [sum(row) for row in model.counts] == per_context.tolist()
    assert per_context[CONTEXTS // 2 :].sum() > 0  # contexts past 255 // width are used, too


def test_contexts_separate_flat_background_from_edges():
    prediction = np.zeros((1, 1, 8, 8), dtype=np.int64)
    prediction[0, 0, :, 4:] = 255
    context = contexts(prediction)
    assert context.min() >= 0 and context.max() < CONTEXTS
    assert context[0, 0, 0, 0] != context[0, 0, 0, 3]  # flat black vs black beside the edge
    assert context[0, 0, 0, 3] != context[0, 0, 0, 4]  # the edge's two sides differ in brightness


def test_tables_round_trip_through_json_and_refuse_nonsense(pictures):
    originals, predicted = pictures
    model = fit_residual_model(quantise(originals, predicted, 16), contexts(predicted), 16)
    assert ResidualModel.from_json(json.loads(model.to_json())) == model
    broken = json.loads(model.to_json())
    broken["counts"][0] = broken["counts"][0][:-1]
    with pytest.raises(ValueError):
        ResidualModel.from_json(broken)
    with pytest.raises(ParameterError, match="residual_step"):
        fit_residual_model(np.zeros(4, int), np.zeros(4, int), 0)
