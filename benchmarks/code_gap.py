"""How much of a run's reconstruction error is its encoder's: codes from the encoder against
codes found for each image by gradient steps through the same decoder.

If the found codes reconstruct far better than the encoder's, the decoder would serve new
images well and the encoder places them badly (an "amortisation gap"); if not, the decoder is
the limit. Prints both errors (MSE per pixel and PSNR) for each input.

    python benchmarks/code_gap.py runs/deep2 mnist:test mnist:train
    python benchmarks/code_gap.py runs/photos8 val unseen/
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.nn import functional as F

from aekit.data.files import read_images
from aekit.data.folders import load_split
from aekit.inference import decode, encode
from aekit.metrics import mse, psnr
from aekit.runs import load_run


def optimised_codes(model, images: np.ndarray, codes: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """``codes`` moved by ``steps`` of Adam to lower each image's squared error through the
    (frozen) decoder. Every image's code follows only its own error."""
    model.eval().requires_grad_(False)
    targets = torch.as_tensor(images)
    found = torch.tensor(codes, requires_grad=True)
    optimizer = torch.optim.Adam([found], lr=lr)
    for _ in range(steps):
        # Summed over images, so one image's gradient does not shrink with the batch's size.
        loss = F.mse_loss(model.decoder(found), targets, reduction="none").mean(dim=(1, 2, 3)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return found.detach().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder written by aekit train")
    parser.add_argument(
        "inputs",
        nargs="+",
        help="mnist:test, a .npy file, a folder of images, or val (the run's validation split)",
    )
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.05, help="Adam's step on the codes")
    parser.add_argument("--limit", type=int, default=10_000, help="the first N images of each input")
    args = parser.parse_args()
    run = load_run(args.run)
    print("| input | images | encoder's codes: MSE | PSNR | found codes: MSE | PSNR |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for spec in args.inputs:
        if spec == "val":
            images = load_split(run.dataset, "test").images[: args.limit]
        else:
            images = read_images(spec, run.model.config.input_shape).images[: args.limit]
        codes = encode(run.model, images)
        found = optimised_codes(run.model, images, codes, args.steps, args.lr)
        before, after = (mse(images, decode(run.model, c)) for c in (codes, found))
        print(
            f"| {spec} | {len(images)} | {before:.5f} | {psnr(before):.2f} | "
            f"{after:.5f} | {psnr(after):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
