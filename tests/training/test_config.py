"""Training settings: recipes, the automatic precision, one place of checks."""

import pytest

from aekit.errors import ParameterError
from aekit.training import config
from aekit.training.config import TrainConfig, make_configs


def test_auto_precision_is_recorded_as_a_concrete_choice(monkeypatch):
    monkeypatch.setattr(config, "_cpu_has_bfloat16", lambda: True)
    assert TrainConfig.for_family("deep", precision="auto").precision == "bfloat16"
    assert TrainConfig(precision="auto").to_dict()["precision"] == "bfloat16"
    # Every family but the tutorial's trains in bfloat16 where the hardware has it.
    for family in ("deep", "conv", "vae"):
        assert TrainConfig.for_family(family).precision == "bfloat16"
    assert TrainConfig.for_family("dense").precision == "float32"
    monkeypatch.setattr(config, "_cpu_has_bfloat16", lambda: False)
    assert TrainConfig.for_family("deep").precision == "float32"


def test_every_setting_is_checked_and_named():
    with pytest.raises(ParameterError, match="precision='half'"):
        TrainConfig(precision="half")
    with pytest.raises(ParameterError, match="seed=-1: must be at least 0"):
        make_configs("dense", 2, seed=-1)
    with pytest.raises(ParameterError, match="lr=nan: must be a finite number"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ParameterError, match="lr_warmup=1.0: must be less than 1"):
        TrainConfig(lr_warmup=1.0)
    with pytest.raises(ParameterError, match="lr_warmup=-0.1: must be 0 or more"):
        TrainConfig(lr_warmup=-0.1)
    with pytest.raises(ParameterError, match="adam_beta2=1.0: must be less than 1"):
        TrainConfig(adam_beta2=1.0)
    with pytest.raises(ParameterError, match="adam_beta2=-0.5: must be 0 or more"):
        TrainConfig(adam_beta2=-0.5)
    with pytest.raises(ParameterError, match="surprise=1: is not a training option"):
        TrainConfig.for_family("conv", surprise=1)
