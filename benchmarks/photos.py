"""Your own images: aekit against PCA on crops of natural photos (issue 16's measurement).

Builds two folders of 64x64 PNG crops from the colour photos that scikit-image and
scikit-learn ship (and matplotlib's sample photo): `seen/` from the training photos and
`unseen/` from photos kept out of training. Then, for each code size, trains exactly

    aekit train --model hybrid --dataset seen/ --image-size 32 --channels 3 --latent-dim D

(the family's defaults, a 10% validation split) and prints the validation PSNR, PCA's at the
same code size on the same split, both on the unseen crops, and the mean colour of the
reconstructions against the inputs'.

    pip install scikit-image
    python benchmarks/photos.py                       # 8, 32 and 64 numbers
    python benchmarks/photos.py 64 64:quantize=true,rate_weight=0.01
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from quality import parse_spec  # noqa: E402

from aekit.baselines import pca_fit  # noqa: E402
from aekit.data.files import read_images  # noqa: E402
from aekit.data.folders import load_split  # noqa: E402
from aekit.inference import reconstruct  # noqa: E402
from aekit.metrics import mse, psnr  # noqa: E402
from aekit.training.pipeline import plan_new_run, train_run  # noqa: E402

SEEN = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "china"]
UNSEEN = ["flower", "motorcycle_left", "grace_hopper"]


def photo(name: str) -> np.ndarray:
    """One RGB photo (H, W, 3) uint8 by name, from whichever package ships it."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    if name == "grace_hopper":
        import matplotlib.cbook

        return np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    if name == "motorcycle_left":
        from skimage.data import stereo_motorcycle

        return stereo_motorcycle()[0]
    import skimage.data

    return np.asarray(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"))


def write_crops(folder: Path, names: list[str], count: int, seed: int, side: int = 64) -> None:
    """``count`` random square crops (a twelfth to a third of the photo's shorter side), each
    resized to ``side`` pixels, spread evenly over the photos."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(photo(name)) for name in names]
    for index in range(count):
        image = photos[index % len(photos)]
        shorter = min(image.size)
        size = int(rng.uniform(shorter / 12, shorter / 3))
        left = int(rng.integers(0, image.width - size + 1))
        top = int(rng.integers(0, image.height - size + 1))
        crop = image.crop((left, top, left + size, top + size)).resize((side, side), Image.LANCZOS)
        crop.save(folder / f"{index:05d}.png")


def pca_psnr(train: np.ndarray, test: np.ndarray, components: int) -> float:
    mean, directions = pca_fit(train, components)
    flat = test.reshape(len(test), -1).astype(np.float64) - mean
    return psnr(mse(flat + mean, (flat @ directions.T) @ directions + mean))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=["8", "32", "64"], help="dim[:name=value,...]")
    parser.add_argument("--train-crops", type=int, default=2400)
    parser.add_argument("--unseen-crops", type=int, default=600)
    parser.add_argument("--family", default="hybrid")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        seen, unseen = Path(work) / "seen", Path(work) / "unseen"
        write_crops(seen, SEEN, args.train_crops, seed=0)
        write_crops(unseen, UNSEEN, args.unseen_crops, seed=1)
        print(f"{args.train_crops} crops of {', '.join(SEEN)}")
        print(f"{args.unseen_crops} unseen crops of {', '.join(UNSEEN)}")
        print(
            "| code | options | train s | val PSNR | PCA val | unseen PSNR | PCA unseen | mean RGB in / out |"
        )
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for spec in args.specs:
            dim, _, options_text = spec.partition(":")
            _, dim, _, options = parse_spec(f"{args.family}:{dim}:0:{options_text}")
            out = Path(work) / spec
            plan = plan_new_run(
                args.family, dim, dataset=str(seen), image_size=32, channels=3, out=out, **options
            )
            run, stopped = train_run(plan, progress=False)
            train = load_split(run.dataset, "train").images
            val = load_split(run.dataset, "test").images
            held_out = read_images(unseen, run.model.config.input_shape).images
            unseen_psnr = psnr(mse(held_out, reconstruct(run.model, held_out)))
            colour_in, colour_out = (
                np.round(x.mean(axis=(0, 2, 3)), 3) for x in (val, reconstruct(run.model, val))
            )
            print(
                f"| {dim} | {','.join(f'{k}={v}' for k, v in options.items()) or 'defaults'} | "
                f"{run.metrics['train_seconds']:.0f} | {run.metrics['val_psnr']:.2f} | "
                f"{run.metrics['pca_val_psnr']:.2f} | {unseen_psnr:.2f} | "
                f"{pca_psnr(train, held_out, dim):.2f} | {colour_in} / {colour_out} |"
                + (f" stopped: {stopped}" if stopped else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
