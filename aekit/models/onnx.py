"""A model's encoder and decoder as two ONNX files, for use outside Python and PyTorch.

``encoder.onnx`` maps images to codes and ``decoder.onnx`` codes to images, each with a
dynamic batch dimension; both files carry their contract in their metadata, and
``model.json`` beside them repeats it for readers without an ONNX library. The codec family's
entropy coding (and the exact integer decoder that ``.aez`` files need) stays in Python: what
is exported is its float networks. Needs the ``onnx`` extra (``pip install 'aekit[onnx]'``):
onnx and onnxscript to export, onnxruntime to run the files.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path

import torch

from aekit import __version__
from aekit.errors import AekitError
from aekit.fileio import atomic_folder
from aekit.models.base import Autoencoder

ENCODER_FILE, DECODER_FILE, CONTRACT_FILE = "encoder.onnx", "decoder.onnx", "model.json"
OPSET = 18
EXTRA_HINT = "ONNX export needs the onnx extra: pip install 'aekit[onnx]' (onnx, onnxscript, onnxruntime)"


def contract(model: Autoencoder) -> dict:
    """What the two files take and give: names, shapes, dtype, layout and pixel scale."""
    channels, height, width = model.config.input_shape
    images = {"name": "images", "shape": ["batch", channels, height, width], "dtype": "float32"}
    codes = {"name": "codes", "shape": ["batch", model.config.latent_dim], "dtype": "float32"}
    return {
        "aekit_version": __version__,
        "family": model.config.family,
        "latent_dim": model.config.latent_dim,
        "layout": "NCHW (batch, channels, height, width)",
        "pixels": "float32 in [0, 1]: 8-bit pixel values divided by 255",
        "encoder": {"file": ENCODER_FILE, "input": images, "output": codes},
        "decoder": {"file": DECODER_FILE, "input": codes, "output": images},
        "notes": _notes(model),
    }


def _notes(model: Autoencoder) -> str:
    notes = []
    if hasattr(model.encoder, "distribution"):
        notes.append("the encoder gives the mean of each image's code distribution")
    if hasattr(model, "predictor"):
        notes.append(
            "the codec's entropy coding and its exact integer decoder stay in Python (aekit "
            "compress/decompress); these are its float networks"
        )
    return "; ".join(notes)


def export_onnx(model: Autoencoder, folder: str | Path, *, force: bool = False) -> Path:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``model.json`` into ``folder``.

    ``folder`` must not exist or be empty unless ``force``; it appears complete or not at all.
    Raises :class:`AekitError` if the onnx extra is missing or the folder is taken (both
    before any work)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) and not force:
        raise AekitError(f"{folder} already exists; choose another folder or pass --force to replace it")
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise AekitError(EXTRA_HINT) from None
    described = contract(model)
    with atomic_folder(folder) as staging:
        model = model.eval()
        device = next(model.parameters()).device
        example_images = torch.rand(2, *model.config.input_shape, device=device)
        example_codes = torch.zeros(2, model.config.latent_dim, device=device)
        _export(
            model.encoder, example_images, "images", "codes", staging / ENCODER_FILE, described["encoder"]
        )
        _export(model.decoder, example_codes, "codes", "images", staging / DECODER_FILE, described["decoder"])
        (staging / CONTRACT_FILE).write_text(json.dumps(described, indent=2) + "\n")
    return folder


def _export(
    network: torch.nn.Module, example: torch.Tensor, input_name: str, output_name: str, path: Path, role: dict
):
    import onnx

    batch = torch.export.Dim("batch", min=1)
    # The exporter reports its progress on stdout, its loggers and warnings; none of it is ours.
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                network,
                (example,),
                input_names=[input_name],
                output_names=[output_name],
                dynamic_shapes=({0: batch},),
                opset_version=OPSET,
                dynamo=True,
                verbose=False,
            )
    except Exception as exc:  # the exporter fails in many ways; each is one line here
        raise AekitError(f"this model's {path.stem} could not be exported to ONNX ({exc})") from None
    finally:
        quiet.setLevel(level)
    program.save(str(path))
    proto = onnx.load(str(path))
    proto.doc_string = f"aekit {role['input']['name']} -> {role['output']['name']}"
    onnx.helper.set_model_props(proto, {"aekit": json.dumps(role), "aekit_version": __version__})
    onnx.save(proto, str(path))
