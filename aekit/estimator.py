"""``aekit.Autoencoder``: one estimator that feels like Keras and scikit-learn.

It wraps the same pieces as ``aekit train``: the family's recipe (:mod:`aekit.models.recipes`),
the model registry, the fit loop and run folders, so a model trained here and one trained
from the command line are the same model.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from aekit.data.arrays import Layout, codes_to_batch, from_batch, on_device, shape_of_batch, to_batch
from aekit.errors import NotFittedError, ParameterError
from aekit.inference import decode, encode, reconstruct
from aekit.models import ModelConfig, build_model
from aekit.models.config import MODEL_SETTINGS
from aekit.models.recipes import DEFAULT_TRAIN_SIZE
from aekit.models.summary import summarize
from aekit.runs import Run, load_run, prepare_run_dir, save_run
from aekit.training.callbacks import Callback, EpochPrinter
from aekit.training.config import TrainConfig
from aekit.training.distributed import resolve_device
from aekit.training.loop import fit as fit_model
from aekit.training.loop import last_measured
from aekit.training.pipeline import check_memory


class Autoencoder:
    """An image autoencoder: ``fit`` it on images, then ``encode`` them to codes and ``decode``
    codes back to images.

    ``family`` is "dense" (the tutorial's 784-300-code network and settings), "deep", "conv",
    "vae", "hybrid" (photos) or "codec" (compression, 64 numbers); every option left as None
    takes that family's recipe, exactly as ``aekit train --model FAMILY`` does. The other
    options have the names and meanings of the command line's flags.

    Images may be NumPy arrays or torch tensors shaped (N, D), (N, H, W) or (N, C, H, W),
    uint8 (0..255) or floats in [0, 1], or one such image; results come back in the layout,
    scale and array type they came in.

    >>> ae = Autoencoder("dense", latent_dim=2).fit(x_train, epochs=20, validation_data=x_test)
    >>> codes = ae.encode(x_test); images = ae.decode(codes)

    After ``fit``: ``model_`` (the ``torch.nn.Module``, with ``.encoder`` and ``.decoder``),
    ``history_`` (per-epoch ``epoch``, ``loss``, ``val_loss``, ``seconds``), ``config_`` and
    ``training_config_``.
    """

    def __init__(
        self,
        family: str = "dense",
        latent_dim: int | None = None,
        *,
        hidden: int | None = None,
        upsample: str | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        seed: int = 0,
        schedule: str | None = None,
        lr_warmup: float | None = None,
        adam_beta2: float | None = None,
        noise: float | None = None,
        kl_weight: float | None = None,
        quantize: bool | None = None,
        rate_weight: float | None = None,
        precision: str | None = None,
        augment: bool | None = None,
        device: str = "auto",
        verbose: int = 1,
    ):
        self.family = family
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.upsample = upsample
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.schedule = schedule
        self.lr_warmup = lr_warmup
        self.adam_beta2 = adam_beta2
        self.noise = noise
        self.kl_weight = kl_weight
        self.quantize = quantize
        self.rate_weight = rate_weight
        self.precision = precision
        self.augment = augment
        self.device = device
        self.verbose = verbose

    # --- scikit-learn's estimator protocol --------------------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments, as scikit-learn's ``clone`` and grid searches read them."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> Autoencoder:
        for name, value in params.items():
            if name not in self._param_names():
                raise ParameterError(name, value, f"is not a parameter of {type(self).__name__}")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None, target_tags=TargetTags(required=False), transformer_tags=TransformerTags()
        )

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k].default]
        return f"{type(self).__name__}({', '.join(changed)})"

    # --- training ------------------------------------------------------------------------

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_data=None,
        validation_freq: int = 1,
        callbacks: list[Callback] | tuple = (),
        verbose: int | None = None,
    ) -> Autoencoder:
        """Train a new model to reproduce ``x``; returns ``self``.

        ``y`` is ignored (Keras users pass ``x`` twice; scikit-learn passes labels).
        ``epochs`` and ``batch_size`` override the constructor's for this call.
        ``validation_data`` (images, or a Keras-style ``(x_val, x_val)`` pair) is optional:
        with it ``history_["val_loss"]`` holds its per-pixel MSE after every epoch, or, as in
        Keras, after every ``validation_freq``-th epoch and the last (None after the others):
        worth it when a recipe counted in steps makes many short epochs of a small ``x``.
        """
        shape = shape_of_batch(x)
        images, layout, single, _ = to_batch(x, shape, "x")
        if single:
            raise ParameterError("x", f"array of shape {np.shape(x)}", "fit needs a batch of images")
        val = None
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) == 2:
                validation_data = validation_data[0]
            val = to_batch(validation_data, shape, "validation_data", prefer=layout.kind)[0]
        model_config = self._model_config(shape)
        training = self._training_config(len(images), epochs=epochs, batch_size=batch_size)
        check_memory(model_config, training.batch_size)
        model = build_model(model_config, seed=training.seed)
        verbose = self.verbose if verbose is None else verbose
        watchers = [*callbacks, EpochPrinter(training.epochs)] if verbose else list(callbacks)
        result = fit_model(
            model,
            images,
            val,
            training,
            progress=bool(verbose) and sys.stderr.isatty(),
            callbacks=watchers,
            validation_freq=validation_freq,
        )
        if result.stopped:
            warnings.warn(f"training stopped early: {result.stopped}", stacklevel=2)
        self.model_ = model.eval()  # stays on the device it trained on; save() copies to the CPU
        self.config_, self.training_config_, self.layout_ = model_config, training, layout
        self.history_ = _history(result.history)
        self.train_seconds_ = result.train_seconds
        return self

    def _model_config(self, shape: tuple[int, int, int]) -> ModelConfig:
        return ModelConfig(self.family, shape, self.latent_dim, self.hidden, self.upsample)

    def _training_config(self, n_train: int = DEFAULT_TRAIN_SIZE, **overrides) -> TrainConfig:
        options = {name: getattr(self, name) for name in self._param_names()}
        for name in (MODEL_SETTINGS & set(options)) | {"verbose"}:
            options.pop(name)
        options.update({k: v for k, v in overrides.items() if v is not None})
        options["device"] = resolve_device(options["device"])
        return TrainConfig.for_family(self.family, n_train=n_train, **options)

    # --- using a fitted model --------------------------------------------------------------

    def encode(self, x) -> np.ndarray:
        """Codes (N, latent_dim) of images, or (latent_dim,) for one image; float32."""
        images, _, single, device = self._images(x)
        codes = encode(self.model_, images)
        return on_device(codes[0] if single else codes, device)

    def decode(self, codes) -> np.ndarray:
        """Images made from codes (N, latent_dim) or one code, in the layout and scale that
        ``fit`` was given."""
        model = self._fitted()
        array, single, device = codes_to_batch(codes, model.config.latent_dim)
        return from_batch(decode(model, array), self.layout_, single, device)

    def reconstruct(self, x):
        """The autoencoder's output for images, in their own layout and scale."""
        images, layout, single, device = self._images(x)
        return from_batch(reconstruct(self.model_, images), layout, single, device)

    def predict(self, x):
        """Keras' name for :meth:`reconstruct` (``autoencoder.predict(x_test)`` in the tutorial)."""
        return self.reconstruct(x)

    def score_samples(self, x) -> np.ndarray:
        """Per-image reconstruction error (mean squared error per pixel, pixels in [0, 1]):
        large for images unlike the training data, so it serves as an anomaly score."""
        images, _, single, _ = self._images(x)
        errors = ((reconstruct(self.model_, images) - images) ** 2).reshape(len(images), -1).mean(axis=1)
        return errors[0] if single else errors

    # --- the tutorial's two pictures ---------------------------------------------------------

    def plot_reconstructions(self, x, n: int = 5, seed: int | None = 0):
        """A matplotlib Figure: ``n`` images of ``x`` (picked at random with ``seed``, or the
        first ``n`` with ``seed=None``) above their reconstructions, drawn as a run folder's
        ``reconstructions.png`` is. Shown inline in a notebook."""
        from aekit.report.plots import pick, reconstructions_figure

        images = self._images(x)[0]
        originals = images[pick(len(images), n, seed)]
        return reconstructions_figure(originals, reconstruct(self.model_, originals))

    def plot_latent(self, x, labels=None, title: str = "Latent codes"):
        """A matplotlib Figure: the codes of ``x`` as points coloured by ``labels`` (codes of
        more than 2 numbers projected on their 2 main directions), drawn as a run folder's
        ``latent.png`` is."""
        from aekit.report.plots import latent_figure

        images = self._images(x)[0]
        return latent_figure(
            encode(self.model_, images), None if labels is None else np.asarray(labels), title
        )

    def transform(self, x) -> np.ndarray:
        """scikit-learn's name for :meth:`encode`."""
        return self.encode(x)

    def inverse_transform(self, codes) -> np.ndarray:
        """scikit-learn's name for :meth:`decode`."""
        return self.decode(codes)

    def fit_transform(self, x, y=None, **fit_options) -> np.ndarray:
        return self.fit(x, y, **fit_options).encode(x)

    def summary(self) -> None:
        """Print the encoder, decoder and autoencoder layer tables (Keras' ``model.summary()``);
        before ``fit``, those of the model that ``fit`` would build for 28x28 gray images."""
        model = getattr(self, "model_", None)
        if model is None:
            model = build_model(self._model_config((1, 28, 28)))
        print(summarize(model))

    # --- saving ------------------------------------------------------------------------------

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write a run folder (config.json, model.safetensors, metrics.json) that
        :func:`aekit.load` and every ``aekit`` command read; an existing non-empty folder is
        replaced only with ``overwrite``."""
        model = self._fitted()
        folder = prepare_run_dir(path, self.family, overwrite, parameter="path")
        history = [
            dict(zip(self.history_, row, strict=True)) for row in zip(*self.history_.values(), strict=True)
        ]
        metrics = {
            "val_mse": last_measured(self.history_["val_loss"]),
            "train_seconds": self.train_seconds_,
            "epochs": len(history),
            "history": history,
        }
        save_run(
            Run(model, self.training_config_, dataset=None, metrics=metrics, layout=self.layout_.to_dict()),
            folder,
        )
        return folder

    def export_onnx(self, folder: str | Path, force: bool = False) -> Path:
        """Write ``encoder.onnx``, ``decoder.onnx`` and ``model.json`` into a new ``folder``
        (see :mod:`aekit.models.onnx`); needs ``pip install 'aekit[onnx]'``."""
        from aekit.models.onnx import export_onnx

        return export_onnx(self._fitted(), folder, force=force)

    @classmethod
    def from_run(cls, run: Run) -> Autoencoder:
        config, training = run.model.config, run.training
        estimator = cls(
            config.family,
            config.latent_dim,
            hidden=config.hidden,
            upsample=config.upsample,
            **{k: v for k, v in asdict(training).items() if k in cls._param_names() and k != "device"},
        )
        estimator.model_ = run.model.eval()
        estimator.config_, estimator.training_config_ = config, training
        estimator.layout_ = Layout.from_dict(run.layout) if run.layout else Layout("chw")
        estimator.history_ = _history_from_dicts(run.metrics.get("history", []))
        estimator.train_seconds_ = run.metrics.get("train_seconds", 0.0)
        return estimator

    # --- helpers -----------------------------------------------------------------------------

    def _fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(x) first")
        return self.model_

    def _images(self, x):
        model = self._fitted()
        return to_batch(x, tuple(model.config.input_shape), "x", prefer=self.layout_.kind)


def load(path: str | Path, device: str = "auto") -> Autoencoder:
    """The fitted :class:`Autoencoder` saved in a run folder (by ``save`` or ``aekit train``),
    its model on ``device`` (cpu, cuda or auto)."""
    estimator = Autoencoder.from_run(load_run(path, device=device))
    estimator.device = device
    return estimator


def _history(records) -> dict[str, list]:
    return _history_from_dicts([asdict(r) for r in records])


def _history_from_dicts(rows: list[dict]) -> dict[str, list]:
    names = ("epoch", "loss", "val_loss", "seconds")
    return {name: [row.get(name) for row in rows] for name in names}
