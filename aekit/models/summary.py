"""Keras-style layer tables: name, type, output shape and parameter count per layer."""

from __future__ import annotations

import torch
from torch import nn

from aekit.models import Autoencoder


def summarize(model: Autoencoder) -> str:
    """Three tables, as the tutorial prints them: the encoder, the decoder, the autoencoder
    (and a fourth for the codec family's predictor)."""
    shape = (1, *model.config.input_shape)
    code = (1, model.config.latent_dim)
    encoder = _table("encoder", model.encoder, torch.zeros(shape), _leaves(model.encoder))
    decoder = _table("decoder", model.decoder, torch.zeros(code), _leaves(model.decoder))
    whole = _table(
        "autoencoder",
        model,
        torch.zeros(shape),
        [("encoder", model.encoder), ("decoder", model.decoder)],
    )
    tables = [encoder, decoder, whole]
    predictor = getattr(model, "predictor", None)
    if predictor is not None:  # the codec family's: counted in the whole, used only when compressing
        tables.append(_table("predictor", predictor, torch.zeros(code), _leaves(predictor)))
    return "\n\n".join(tables)


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _leaves(module: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in module.named_modules() if name and not list(m.children())]


def _table(title: str, module: nn.Module, example: torch.Tensor, rows: list[tuple[str, nn.Module]]) -> str:
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
        for name, layer in rows
    ]
    try:
        with torch.no_grad():
            # A VAE encoder's log-variance head runs only through distribution(); run it too.
            getattr(module, "distribution", module)(example)
    finally:
        for hook in hooks:
            hook.remove()

    header = ("Layer (type)", "Output Shape", "Param #")
    lines = [(f"{title}_input (Input)", _batch_shape(example.shape), "0")]
    for name, layer in rows:
        label = f"{title}_{name.replace('.', '_')} ({type(layer).__name__})"
        lines.append((label, _batch_shape(shapes[name]), f"{parameter_count(layer):,}"))
    widths = [max(len(r[i]) for r in [header, *lines]) + 3 for i in range(3)]
    rule = "=" * sum(widths)

    def fmt(row: tuple[str, str, str]) -> str:
        return "".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    total = sum(p.numel() for p in module.parameters())
    trainable = parameter_count(module)
    out = [f'Model: "{title}"', rule, fmt(header), rule, *map(fmt, lines), rule]
    out += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(out)


def _batch_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["None", *map(str, shape[1:])]) + ")"
