"""aekit.Autoencoder: the notebook and scikit-learn face of aekit."""

import json

import numpy as np
import pytest
import torch

import aekit
from aekit.cli.main import main
from aekit.errors import NotFittedError, ParameterError
from aekit.models.summary import parameter_count


@pytest.fixture
def digits(toy_images):
    """The toy images as Keras gives MNIST: uint8 (N, 28, 28)."""
    return np.rint(toy_images[:, 0] * 255).astype(np.uint8)


def small(family="dense", **options):
    return aekit.Autoencoder(family, latent_dim=2, hidden=8, epochs=2, batch_size=16, verbose=0, **options)


def test_the_tutorial_workflow_keeps_the_users_layout_and_scale(digits, tmp_path, capsys):
    ae = aekit.Autoencoder("dense", latent_dim=2, hidden=16)
    assert ae.fit(digits[:48], epochs=2, batch_size=16, validation_data=digits[48:]) is ae
    assert "epoch   2/2" in capsys.readouterr().out
    assert ae.history_["epoch"] == [1, 2] and len(ae.history_["val_loss"]) == 2
    codes = ae.encode(digits)
    assert codes.shape == (64, 2) and codes.dtype == np.float32
    images = ae.decode(codes)
    assert images.shape == (64, 28, 28) and images.dtype == np.uint8
    errors = ae.score_samples(digits)
    assert errors.shape == (64,) and (errors >= 0).all()
    # The anomaly score is the per-image MSE of the reconstruction, pixels in [0, 1].
    again = ae.reconstruct(digits).astype(np.float64) / 255
    np.testing.assert_allclose(errors, ((again - digits / 255) ** 2).mean(axis=(1, 2)), atol=2e-3)
    ae.summary()
    assert "Total params" in capsys.readouterr().out
    ae.save(tmp_path / "run")
    same = aekit.load(tmp_path / "run")
    np.testing.assert_allclose(same.encode(digits), codes, atol=1e-5)
    assert same.decode(codes).dtype == np.uint8
    with pytest.raises(ParameterError, match="already holds files"):
        ae.save(tmp_path / "run")
    # The saved folder is a run every command reads.
    assert (
        main(["encode", str(tmp_path / "run"), str(_npy(tmp_path, digits)), "-o", str(tmp_path / "c.npy")])
        == 0
    )
    np.testing.assert_allclose(np.load(tmp_path / "c.npy"), codes, atol=1e-5)


def _npy(tmp_path, array):
    path = tmp_path / "x.npy"
    np.save(path, array)
    return path


def test_every_layout_comes_back_as_it_went_in(toy_images):
    flat = toy_images.reshape(64, 784).astype(np.float64)
    ae = small().fit(flat)
    assert ae.decode(ae.encode(flat)).shape == (64, 784)
    assert ae.reconstruct(flat).dtype == np.float64
    one = flat[0]
    assert ae.encode(one).shape == (2,) and ae.reconstruct(one).shape == (784,)
    np.testing.assert_allclose(ae.encode(one), ae.encode(flat[:1])[0], atol=1e-6)
    # Other layouts of the same images are accepted too, and answered in their own layout.
    assert ae.reconstruct(toy_images).shape == (64, 1, 28, 28)
    tensor = torch.from_numpy(toy_images[:, 0])
    out = ae.reconstruct(tensor)
    assert isinstance(out, torch.Tensor) and out.shape == (64, 28, 28)
    assert isinstance(ae.encode(tensor), torch.Tensor)
    # Keras' name for it, as the tutorial calls its autoencoder.
    np.testing.assert_array_equal(ae.predict(flat), ae.reconstruct(flat))


def test_validation_is_optional_and_bad_input_names_the_parameter(toy_images):
    ae = small().fit(toy_images)
    assert ae.history_["val_loss"] == [None, None]
    with pytest.raises(ParameterError, match="x='array of int64'"):
        small().fit(toy_images.astype(np.int64))
    nan = toy_images.copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="pixels must be finite"):
        small().fit(nan)
    with pytest.raises(ParameterError, match="epochs=0: must be at least 1"):
        small().fit(toy_images, epochs=0)
    with pytest.raises(ParameterError, match="upsample='bilinear': must be one of transposed, resize"):
        small("conv", upsample="bilinear").fit(toy_images)
    with pytest.raises(ParameterError, match="validation_data"):
        small().fit(toy_images, validation_data=np.zeros((3, 5, 5), np.float32))
    with pytest.raises(ParameterError, match=r"codes='array of shape \(3, 5\)'"):
        ae.decode(np.zeros((3, 5), np.float32))
    with pytest.raises(NotFittedError, match="call fit"):
        small().encode(toy_images)


@pytest.mark.parametrize(
    "family, upsample", [("dense", None), ("deep", None), ("conv", None), ("vae", None), ("conv", "resize")]
)
def test_python_and_command_line_build_the_same_model(family, upsample, tmp_path, capsys, require_mnist):
    folder = tmp_path / family
    argv = [
        "train",
        "--model",
        family,
        "--latent-dim",
        "3",
        "--epochs",
        "1",
        "--limit",
        "64",
        "--out",
        str(folder),
        *(["--upsample", upsample] if upsample else []),
    ]
    assert main(argv) == 0
    capsys.readouterr()
    saved = json.loads((folder / "config.json").read_text())
    assert saved["model"]["upsample"] == (upsample or "transposed")
    (x_train, _), _ = aekit.load_mnist()
    ae = aekit.Autoencoder(family, latent_dim=3, upsample=upsample, epochs=1, verbose=0).fit(x_train[:64])
    assert ae.config_.to_dict() == saved["model"]
    assert ae.training_config_.to_dict() == saved["training"]
    assert parameter_count(ae.model_) == parameter_count(aekit.load(folder).model_)


def test_scikit_learn_conventions(toy_images):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone

    ae = aekit.Autoencoder("conv", latent_dim=4, epochs=3)
    assert ae.get_params()["epochs"] == 3 and ae.set_params(lr=0.01) is ae
    twin = clone(ae)
    assert twin.get_params() == ae.get_params() and not hasattr(twin, "model_")
    with pytest.raises(ParameterError, match="nope"):
        ae.set_params(nope=1)
    fitted = small().fit(toy_images)
    np.testing.assert_array_equal(fitted.transform(toy_images), fitted.encode(toy_images))
    assert fitted.inverse_transform(fitted.transform(toy_images)).shape == toy_images.shape
    assert small().fit_transform(toy_images).shape == (64, 2)
    assert sklearn.__version__


def test_pipeline_with_cross_validation_on_mnist(require_mnist):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    (x_train, y_train), _ = aekit.load_mnist()
    x, y = x_train[:600].reshape(600, 784), y_train[:600]
    pipeline = make_pipeline(
        aekit.Autoencoder("dense", latent_dim=8, epochs=2, verbose=0), LogisticRegression(max_iter=1000)
    )
    scores = cross_val_score(pipeline, x, y, cv=3)
    # 8 numbers from 2 short epochs still separate digits far better than chance (0.1).
    assert scores.shape == (3,) and scores.mean() > 0.3


def test_early_stopping_restores_the_best_weights_and_csv_logs_every_epoch(toy_images, tmp_path):
    class WorseEveryEpoch(aekit.Callback):
        """Pretends validation got worse after epoch 1, so early stopping must act."""

        def on_epoch_end(self, record, model):
            record.val_loss = float(record.epoch)
            return False

    log = tmp_path / "log.csv"
    stopper = aekit.EarlyStopping(patience=2)
    ae = small().fit(
        toy_images,
        epochs=10,
        validation_data=toy_images,
        callbacks=[WorseEveryEpoch(), stopper, aekit.CSVLogger(log)],
    )
    assert ae.history_["epoch"] == [1, 2, 3]
    assert stopper.best_epoch == 1
    assert log.read_text().splitlines()[0] == "epoch,loss,val_loss,seconds"
    assert len(log.read_text().splitlines()) == 4
    # The weights are epoch 1's: training the same for one epoch gives them exactly.
    one = small().fit(toy_images, epochs=1)
    for name, tensor in one.model_.state_dict().items():
        torch.testing.assert_close(ae.model_.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(ParameterError, match="needs validation data"):
        small().fit(toy_images, callbacks=[aekit.EarlyStopping()])


def test_validation_freq_validates_every_nth_epoch_and_the_last(toy_images, tmp_path):
    ae = small().fit(toy_images, epochs=5, validation_data=toy_images, validation_freq=2)
    measured = ae.history_["val_loss"]
    assert [v is None for v in measured] == [True, False, True, False, False]
    # The same weights as validating every epoch, and the same last error.
    every = small().fit(toy_images, epochs=5, validation_data=toy_images)
    assert measured[-1] == every.history_["val_loss"][-1]
    # Early stopping counts validated epochs only; the saved run keeps the last measured error.
    stopper = aekit.EarlyStopping(patience=1)
    ae = small().fit(toy_images, epochs=5, validation_data=toy_images, validation_freq=3, callbacks=[stopper])
    assert ae.history_["val_loss"][:2] == [None, None] and stopper.best_epoch in (3, 5)
    folder = ae.save(tmp_path / "run")
    assert aekit.load(folder).history_["val_loss"][2] == ae.history_["val_loss"][2]
    from aekit.report.plots import loss_figure

    history = json.loads((folder / "metrics.json").read_text())["history"]
    validation_line = loss_figure(history).axes[0].lines[1]
    assert list(validation_line.get_xdata()) == [3, 5]  # the loss plot joins the measured epochs
    with pytest.raises(ParameterError, match="validation_freq=0"):
        small().fit(toy_images, validation_data=toy_images, validation_freq=0)


def test_tensorboard_without_its_package_is_a_clear_error(toy_images, tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ParameterError, match="pip install"):
            small().fit(toy_images, callbacks=[aekit.TensorBoard(tmp_path)])
    else:
        small().fit(toy_images, callbacks=[aekit.TensorBoard(tmp_path)])
        assert any(tmp_path.iterdir())


def test_the_tutorials_two_pictures_are_figures_drawn_as_the_run_folder_draws_them():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    x = rng.random((40, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 40)
    ae = aekit.Autoencoder("dense", latent_dim=2, hidden=8, epochs=1).fit(x)
    pictures = ae.plot_reconstructions(x, n=5)
    assert isinstance(pictures, Figure) and len(pictures.axes) == 10  # 5 originals above 5 reconstructions
    assert pictures.axes[0].get_ylabel() == "original" and pictures.axes[5].get_ylabel() == "reconstructed"
    first = ae.plot_reconstructions(x, n=3, seed=None).axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(first), x[0], atol=1e-6)  # seed=None: the first images
    scatter = ae.plot_latent(x, labels)
    assert isinstance(scatter, Figure)
    points = np.concatenate([c.get_offsets() for c in scatter.axes[0].collections])
    assert len(points) == 40
