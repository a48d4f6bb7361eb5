"""Every family's default settings, in one table that imports nothing heavy.

The Python estimator, ``aekit train`` and ``aekit summary`` all start from these, so a family
builds the same model and trains the same way whichever door it is used through. ``dense``
keeps the tutorial's settings (the defaults of :class:`aekit.training.config.TrainConfig`).
"""

from __future__ import annotations

from aekit.errors import ParameterError

FAMILY_RECIPES: dict[str, dict] = {
    # The tutorial's network: 784-300-code.
    "dense": {"hidden": 300},
    # An MLP's epoch costs ~8 s here against ~35 s for the conv family, so within 10 minutes
    # it can train for 60 epochs; with a 2-number code that many epochs beat conv's 16
    # (test MSE 0.0309 against 0.0341, measured with benchmarks/quality.py). At 30 epochs,
    # Adam 0.001 or 0.003, batch 512 and input noise 0.1 each did worse than this recipe.
    # bfloat16 (precision "auto") trains it in about 220 s instead of ~480 s here; the 2-number
    # test MSE lands on both sides of 0.031 by seed in either precision (bfloat16: 0.03113,
    # 0.03093, 0.03152 at seeds 0-2; float32: 0.03091 and 0.03102 at seeds 0 and 1).
    "deep": {
        "hidden": 1000,
        "epochs": 60,
        "batch_size": 256,
        "lr": 0.002,
        "schedule": "cosine",
        "precision": "auto",
    },
    # Adam 0.006 after a 5% warm-up, with a second-moment average over ~100 steps (beta2 0.99),
    # reaches 0.0024 in 8 epochs (32 numbers, seed 0, bfloat16 on the 2-core machine: test MSE
    # 0.00239 in 135 to 206 s in five runs as the machine's speed varied; with beta2 0.999, 0.00248
    # in 179 s after 8 epochs and 0.00233 in 279 s after 12; 16 epochs at 0.002 without warm-up
    # 0.00238 in 409 s).
    # After 8 epochs at beta2 0.999: 0.00276 at 0.002 without warm-up; with it 0.00256 at 0.004,
    # 0.00247 at 0.006, 0.00249 at 0.01. Measured with benchmarks/quality.py.
    # Stated in optimizer steps (8 epochs of MNIST at batch 128), so that a small folder gets as
    # many updates: 8 epochs of 2,160 photo crops are 136 steps, after which every image still
    # decoded to the average one (10.5 dB at 64 numbers); 3,752 steps gave 18.45 dB (312 s).
    "conv": {
        "hidden": 32,
        "steps": 3752,
        "batch_size": 128,
        "lr": 0.006,
        "lr_warmup": 0.05,
        "adam_beta2": 0.99,
        "schedule": "cosine",
        "precision": "auto",
    },
    # conv's network as a VAE keeps conv's earlier recipe (the warm-up and beta2 0.99 are untried
    # with its KL term), counted in optimizer steps like conv's: 16 epochs of MNIST at batch 128.
    # On the 2,160 photo crops of benchmarks/photos.py (64 numbers) 16 epochs were 272 steps:
    # 16.01 dB (21 s); 7,504 steps (442 epochs) give 17.80 dB (542 s; PCA 22.24).
    "vae": {
        "hidden": 32,
        "steps": 7504,
        "batch_size": 128,
        "lr": 0.002,
        "schedule": "cosine",
        "precision": "auto",
    },
    # Compression across the whole quality range (aekit compress --quality): the conv network
    # trained for rounded codes, plus a small dense predictor whose picture, computed exactly in
    # integers, chooses the probability tables of the pixel residual layer (aekit.codec.residual).
    # 40 epochs (about 12 minutes here) against 24: 0.4 dB more at every quality for about 3%
    # fewer bytes (quality 3: 26.89 dB at 19.1 bytes against 26.48 at 19.5).
    "codec": {
        "hidden": 24,
        "latent_dim": 64,
        "epochs": 40,
        "batch_size": 128,
        "lr": 0.002,
        "schedule": "cosine",
        "precision": "auto",
        "quantize": True,
        "rate_weight": 0.01,
    },
    # Photos: a few thousand images need many small steps rather than a few epochs, so the
    # schedule is a number of optimizer steps (the epochs follow from the dataset's size), and
    # every batch is flipped, turned and zoomed into at random (augment), which natural images allow.
    # Measured with benchmarks/photos.py; see the README's "your own images".
    # Its decoder resizes then convolves instead of transposed convolutions: no checkerboard, and
    # 23.26 dB against 23.12 on the photo crops at 64 numbers (0.09-0.18 dB at 8, 32, 64).
    "hybrid": {
        "hidden": 32,
        "upsample": "resize",
        "steps": 8000,
        "batch_size": 32,
        "lr": 0.0005,
        "schedule": "cosine",
        "precision": "auto",
        "augment": True,
    },
}

# The training-set size assumed where a step-based recipe meets no data yet (aekit summary):
# MNIST's, which Fashion-MNIST and KMNIST share.
DEFAULT_TRAIN_SIZE = 60_000


def model_families() -> list[str]:
    """Names of every family, sorted."""
    return sorted(FAMILY_RECIPES)


def family_recipe(family: str) -> dict:
    """A family's defaults (``hidden`` and training options) that differ from the tutorial's."""
    if family not in FAMILY_RECIPES:
        raise ParameterError(
            "family", family, f"unknown model family; choose one of {', '.join(model_families())}"
        )
    return dict(FAMILY_RECIPES[family])
