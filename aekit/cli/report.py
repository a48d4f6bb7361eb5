"""``aekit report``: RUN/report.html, one offline page with a live latent explorer."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands) -> argparse.ArgumentParser:
    report = commands.add_parser(
        "report",
        help="write RUN/report.html: figures and a live latent explorer, in one offline file",
        description="Write RUN/report.html: the run's settings and metrics, loss curves, reconstructions, "
        "the latent scatter, the decoded grid, interpolations, samples (VAE) and the rate-distortion plot "
        "if the run has one, plus a live explorer that decodes wherever the pointer is. The page is one "
        "self-contained file that works offline.",
    )
    report.add_argument(
        "run", type=Path, help="run folder, or a built-in model (its report goes to ./NAME-report.html)"
    )
    report.add_argument("--force", action="store_true", help="replace an existing report.html")
    return report


def run(args: argparse.Namespace) -> int:
    from aekit.cli.options import progress_wanted
    from aekit.report.html import write_report

    path = write_report(args.run, force=args.force, progress=progress_wanted())
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
