"""Models that ship inside aekit: use them by name wherever a run folder is taken.

Each built-in is a run folder (``config.json``, ``model.safetensors`` with the weights in
float16, ``metrics.json``; the codec's probability tables for every quality under
``entropy/``) below this package, listed in ``manifest.json`` with the SHA-256 of every file,
the exact command that trained it and its measured figures. A file whose hash differs is
refused: a built-in is never silently changed, retrained or downloaded.

A name never shadows a folder: ``tutorial`` means the built-in only when no file or folder
of that name exists where the command runs. ``benchmarks/builtin_models.py`` rebuilds them.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from aekit.errors import AekitError

ROOT = Path(__file__).parent
MANIFEST = ROOT / "manifest.json"


@cache
def manifest() -> dict:
    """The manifest: for each built-in's name, its family, code size, parameters, files with
    their SHA-256, the command that trained it and its measured figures."""
    if not MANIFEST.is_file():
        return {}
    return json.loads(MANIFEST.read_text())


def names() -> list[str]:
    return list(manifest())


def is_builtin(folder: str | Path) -> bool:
    """Whether ``folder`` is one of the built-ins' folders (which are never written to)."""
    return Path(folder).resolve().parent == ROOT.resolve() and Path(folder).name in manifest()


def builtin_folder(name: str) -> Path:
    """The folder of the built-in ``name``, every file checked against the manifest's SHA-256."""
    entry = manifest().get(name)
    if entry is None:
        raise AekitError(f"{name} is not a built-in model; the built-ins are {', '.join(names())}")
    folder = ROOT / name
    for relative, digest in entry["files"].items():
        path = folder / relative
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise AekitError(
                f"built-in model {name}: {path} is missing or differs from the file aekit shipped "
                "(its SHA-256 does not match the manifest); reinstall aekit"
            )
    return folder


def resolve_run_folder(run: str | Path) -> Path:
    """``run`` as a folder: an existing path as it is, else a built-in's folder by its name.

    A name that is neither is one line naming the built-ins."""
    path = Path(run)
    if path.exists() or path.is_symlink():
        return path
    if str(run) in manifest():
        return builtin_folder(str(run))
    if len(path.parts) == 1:
        raise AekitError(
            f"{run} is neither a run folder (none exists here) nor a built-in model; "
            f"the built-ins are {', '.join(names())} (see aekit models)"
        )
    return path


def builtin_folders() -> list[Path]:
    """Every built-in's folder, unchecked (for finding a file's run by its fingerprint)."""
    return [ROOT / name for name in manifest()]


def table() -> str:
    """The built-ins as a text table, with the codec's qualities below it."""
    lines = [
        f"{'name':<16}{'family':<8}{'code':>5}{'parameters':>12}{'size MB':>9}{'test MSE':>10}"
        f"{'PSNR dB':>9}  trained with"
    ]
    for name, entry in manifest().items():
        test = entry["test"]
        lines.append(
            f"{name:<16}{entry['family']:<8}{entry['latent_dim']:>5}{entry['parameters']:>12,}"
            f"{entry['bytes'] / 1e6:>9.2f}{test['mse']:>10.5f}{test['psnr']:>9.2f}  {entry['command']}"
        )
    for name, entry in manifest().items():
        if "qualities" in entry:
            lines.append(f"\n{name}: --quality, on the {entry['test']['images']:,} test images")
            lines.append(f"{'quality':>8}{'bytes/image':>13}{'PSNR dB':>9}")
            for quality, figures in entry["qualities"].items():
                psnr = "lossless" if figures["psnr"] is None else f"{figures['psnr']:.2f}"
                lines.append(f"{quality:>8}{figures['bytes_per_image']:>13.2f}{psnr:>9}")
    return "\n".join(lines)
