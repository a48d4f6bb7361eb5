from aekit.models import ModelConfig, build_model
from aekit.models.summary import summarize


def test_summary_shows_layers_shapes_and_keras_totals():
    text = summarize(build_model(ModelConfig()))
    tables = text.split("\n\n")
    assert len(tables) == 3
    assert "Total params: 236,102" in tables[0]
    assert "Total params: 236,884" in tables[1]
    assert "Total params: 472,986" in tables[2]
    assert "encoder_dense_1 (Linear)" in tables[0] and "(None, 300)" in tables[0]
    assert "235,500" in tables[0] and "235,984" in tables[1]
    assert "decoder_output (LeakyReLU)" in tables[1] and "(None, 784)" in tables[1]
