"""Rate-distortion of a codec run against PCA, PNG, JPEG, WebP and AVIF, and the codec's goals.

A thin caller of ``aekit rd`` (aekit.codec.rd.rate_distortion), which measures and writes
RUN/rd.csv, RUN/rd.json and RUN/rd.png; this script adds the verdict on the goals of the
codec's issue: each (bytes per image, PSNR) goal met by some quality at or below that size,
and, at every PSNR from 22 to 40 dB, aekit's bytes against the best of AVIF and WebP stored
as one mosaic (both curves interpolated linearly between their measured points).

    aekit train --model codec --out runs/codec
    python benchmarks/rd.py runs/codec
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from aekit.codec.rd import markdown_table, rate_distortion

# (most bytes per image, least PSNR dB)
GOALS = [(20.0, 26.0), (36.0, 30.0), (48.0, 34.0), (164.0, 40.0)]
STRETCH_RATIO = 0.6
STRETCH_RANGE = (22.0, 40.0)


def bytes_at(rows: list[dict], quality: float) -> float:
    """The bytes per image a codec needs for ``quality`` dB: at each measured PSNR the cheapest
    point reaching at least that PSNR, linear in between; infinite beyond its best point."""
    points = sorted((r["psnr"], r["bytes_per_image"]) for r in rows if math.isfinite(r["psnr"]))
    qualities = np.array([p for p, _ in points])
    sizes = np.minimum.accumulate(np.array([b for _, b in points])[::-1])[::-1]
    if quality > qualities[-1]:
        return math.inf
    return float(np.interp(quality, qualities, sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder (the codec family for --quality levels)")
    parser.add_argument("--input", default="mnist:test")
    parser.add_argument("--per-image", type=int, help="one file per image on the first N images only")
    parser.add_argument("--force", action="store_true", help="replace the run's rd files")
    args = parser.parse_args()
    rows = rate_distortion(args.run, args.input, per_image_limit=args.per_image, force=args.force)
    print(markdown_table(rows))

    ours = [r for r in rows if r["codec"].startswith("aekit")]
    print("\n| goal | best aekit setting at or below the size | verdict |")
    print("| --- | --- | --- |")
    for size, quality in GOALS:
        fitting = [r for r in ours if r["bytes_per_image"] <= size]
        best = max(fitting, key=lambda r: r["psnr"], default=None)
        found = "none"
        if best is not None:
            found = f"{best['setting']}: {best['psnr']:.2f} dB at {best['bytes_per_image']:.1f} B"
        verdict = "met" if best is not None and best["psnr"] >= quality else "MISSED"
        print(f"| >= {quality:g} dB at <= {size:g} B | {found} | {verdict} |")

    mosaic = [r for r in rows if r["layout"] == "one mosaic"]
    mosaics = {codec: [r for r in mosaic if r["codec"] == codec] for codec in ("AVIF", "WebP")}
    print(f"\n| PSNR dB | aekit B | best of AVIF and WebP (mosaic) B | ratio (goal <= {STRETCH_RATIO}) |")
    print("| ---: | ---: | ---: | ---: |")

    def theirs(quality: float) -> float:
        return min(bytes_at(codec_rows, quality) for codec_rows in mosaics.values() if codec_rows)

    for quality in np.arange(STRETCH_RANGE[0], STRETCH_RANGE[1] + 0.01, 1.0):
        mine, best = bytes_at(ours, quality), theirs(quality)
        print(f"| {quality:.0f} | {mine:.1f} | {best:.1f} | {mine / best:.3f} |")
    grid = np.arange(STRETCH_RANGE[0], STRETCH_RANGE[1] + 1e-9, 0.05)
    worst, where = max((bytes_at(ours, q) / theirs(q), q) for q in grid)
    verdict = "met" if worst <= STRETCH_RATIO else "MISSED"
    low, high = STRETCH_RANGE
    print(f"\nlargest ratio from {low:g} to {high:g} dB: {worst:.3f} at {where:.2f} dB")
    print(f"stretch goal (at most {STRETCH_RATIO}): {verdict}")


if __name__ == "__main__":
    main()
