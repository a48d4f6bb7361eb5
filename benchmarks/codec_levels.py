"""Bytes, PSNR and speed of every --quality level of a codec run, as `aekit compress` and
`aekit decompress` give them.

    python benchmarks/codec_levels.py runs/codec [--input mnist:test] [--repeat 3]

Each level's tables are fitted (or loaded) by a first, untimed compression; then compression
and decompression of the whole input are timed ``--repeat`` times each and the fastest is
printed, with images per second. Decompression also checks that the pixels are the ones
compression promised (its PSNR).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from aekit.codec.aez import compress_file, decompress_file
from aekit.codec.tables import QUALITY_LEVELS
from aekit.data.files import read_images
from aekit.metrics import mse, psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder of the codec family")
    parser.add_argument("--input", default="mnist:test")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quality", type=int, nargs="*", default=sorted(QUALITY_LEVELS))
    args = parser.parse_args()
    images = None
    print("| quality | bytes per image | PSNR dB | compress s | decompress s | decompress images/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.aez"
        for quality in args.quality:
            done = compress_file(args.run, args.input, output, quality=quality, force=True)
            compress_times, decompress_times = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                done = compress_file(args.run, args.input, output, quality=quality, force=True)
                compress_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                restored = decompress_file(output, run_folder=args.run)
                decompress_times.append(time.perf_counter() - start)
            if images is None:
                images = read_images(args.input, restored.shape[1:]).images
            measured = psnr(mse(images, np.clip(restored, 0, 1)))
            print(
                f"| {quality} | {done.size / done.images:.2f} | {measured:.3f} | {min(compress_times):.3f} "
                f"| {min(decompress_times):.3f} | {done.images / min(decompress_times):,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
