import pytest

from aekit.codec.tables import (
    QUALITY_LEVELS,
    CodecTables,
    entropy_model_for,
    fingerprint,
    quality_level,
    tables_for,
)
from aekit.errors import ParameterError
from aekit.models import ModelConfig, build_model
from aekit.runs import Run


def test_tables_of_other_weights_in_a_reused_run_folder_are_not_used(tmp_path, require_mnist):
    first, second = (Run(model=build_model(ModelConfig(latent_dim=4, hidden=16), seed=s)) for s in (0, 1))
    fitted = entropy_model_for(first, tmp_path, 0.5)
    assert entropy_model_for(first, tmp_path, 0.5) == fitted  # stored, then reused
    refitted = entropy_model_for(second, tmp_path, 0.5)  # e.g. after 'aekit train --force' into the folder
    assert refitted != fitted
    names = sorted(p.stem for p in (tmp_path / "entropy").glob("*.json"))
    assert names == sorted(
        [fingerprint(first.model, fitted).hex(), fingerprint(second.model, refitted).hex()]
    )


def test_residual_tables_are_fitted_once_and_found_by_fingerprint(tmp_path, require_mnist):
    run = Run(model=build_model(ModelConfig("codec", latent_dim=4, hidden=4), seed=0), dataset="mnist")
    tables = tables_for(run, tmp_path, 1.0, 32)
    assert tables.residual is not None and tables.residual.step == 32
    assert sum(map(sum, tables.residual.counts)) == 20_000 * 784  # every pixel of the sample counted
    assert tables_for(run, tmp_path, 1.0, 32) == tables
    stored = (tmp_path / "entropy" / f"{fingerprint(run.model, tables).hex()}.json").read_text()
    assert CodecTables.from_json(stored) == tables
    assert tables_for(run, tmp_path, 1.0).residual is None


def test_qualities_belong_to_the_codec_family():
    codec = Run(model=build_model(ModelConfig("codec", latent_dim=4, hidden=4)))
    assert quality_level(codec, 1) == QUALITY_LEVELS[1]
    residual_steps = [QUALITY_LEVELS[q][1] for q in range(4, 13)]
    assert residual_steps == sorted(residual_steps, reverse=True) and residual_steps[-1] == 1  # lossless
    with pytest.raises(ParameterError, match="from 1 to 12"):
        quality_level(codec, 13)
    with pytest.raises(ParameterError, match="codec family"):
        quality_level(Run(model=build_model(ModelConfig("dense", latent_dim=4))), 3)
