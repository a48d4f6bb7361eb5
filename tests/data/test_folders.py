import json

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.cli.main import main
from aekit.data import folders, images
from aekit.data.folders import folder_dataset, load_folder_split, load_split
from aekit.errors import AekitError


def make_images(folder, count=12, colour=True):
    """Images of assorted sizes and shapes: coloured rectangles on gradients."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        width, height = int(rng.integers(20, 60)), int(rng.integers(20, 60))
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        pixels[height // 4 : height // 2, width // 4 : width // 2] = rng.integers(0, 256, 3)
        image = Image.fromarray(pixels) if colour else Image.fromarray(pixels[..., 0])
        image.save(folder / f"img{i:02d}.{'png' if i % 2 else 'jpg'}")
    return folder


def test_a_folder_splits_into_disjoint_square_sets(tmp_path):
    spec = folder_dataset(make_images(tmp_path / "pics"), image_size=16, val_fraction=0.25)
    assert spec.shape == (3, 16, 16)
    train, val = load_folder_split(spec, "train"), load_folder_split(spec, "test")
    assert len(train) == 9 and len(val) == 3
    assert train.images.shape == (9, 3, 16, 16) and train.images.dtype == np.float32
    assert 0 <= train.images.min() and train.images.max() <= 1
    # Same split every time, and by config.json's record of it.
    np.testing.assert_array_equal(load_split(spec.to_dict(), "test").images, val.images)
    assert not any(np.array_equal(v, t) for v in val.images for t in train.images)
    # Counted without reading an image, as a step-based recipe needs before training.
    assert folders.training_size(spec.to_dict()) == 9


def test_a_step_recipe_gets_its_steps_on_a_small_folder(tmp_path):
    from aekit.training.pipeline import plan_new_run

    pics = make_images(tmp_path / "pics", count=12)
    plan = plan_new_run("hybrid", 3, dataset=str(pics), image_size=12, batch_size=4, make_folder=False)
    # 11 training images in batches of 4: 3 steps an epoch, so 8,000 steps take 2,667 epochs.
    assert plan.training.epochs == 2667 and plan.training.augment is True
    # A limit is a quick trial: the whole folder's epochs over fewer images, so fewer steps.
    small = plan_new_run(
        "hybrid", 3, dataset=str(pics), image_size=12, batch_size=4, limit=5, make_folder=False
    )
    assert small.training.epochs == 2667 and small.limit == 5
    # On MNIST: conv's 3,752 steps are 8 epochs of 60,000 images, and stay 8 under a limit.
    trial = plan_new_run("conv", 32, limit=1000, make_folder=False)
    assert trial.training.epochs == plan_new_run("conv", 32, make_folder=False).training.epochs == 8


def test_size_and_channels_default_to_the_first_image(tmp_path):
    spec = folder_dataset(make_images(tmp_path / "gray", colour=False))
    first = Image.open(sorted((tmp_path / "gray").iterdir())[0])
    assert spec.channels == 1 and spec.image_size == min(first.size)


def test_bad_folders_and_files_are_named(tmp_path):
    with pytest.raises(AekitError, match="no PNG or JPEG"):
        folder_dataset((tmp_path / "empty").mkdir() or tmp_path / "empty")
    pics = make_images(tmp_path / "pics")
    (pics / "notes.txt").write_text("hello")
    with pytest.raises(AekitError, match="notes.txt.*--skip-bad"):
        folder_dataset(pics, image_size=8)
    with pytest.warns(UserWarning, match="notes.txt"):
        spec = folder_dataset(pics, image_size=8, skip_bad=True)
    (pics / "notes.txt").unlink()
    (pics / "broken.png").write_bytes(b"\x89PNG not really")
    spec = folders.FolderDataset(str(pics), 8, 3, skip_bad=True)
    strict = folders.FolderDataset(str(pics), 8, 3)
    with pytest.raises(AekitError, match="broken.png"):
        for split in ("train", "test"):
            load_folder_split(strict, split)
    with pytest.warns(UserWarning, match="broken.png"):
        images = [load_folder_split(spec, split) for split in ("train", "test")]
    assert sum(len(part) for part in images) == 12


def test_decompression_bombs_are_refused(tmp_path, monkeypatch):
    pics = make_images(tmp_path / "pics", count=3)
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(AekitError, match="over the limit"):
        folder_dataset(pics)


def test_train_encode_compress_report_on_an_rgb_folder(tmp_path, capsys):
    pics = make_images(tmp_path / "pics", count=24)
    run = tmp_path / "run"
    argv = ["train", "--model", "conv", "--dataset", pics, "--image-size", "16", "--channels", "3"]
    argv += ["--hidden", "4", "--latent-dim", "4", "--epochs", "2", "--quantize", "--out", run]
    assert main([str(a) for a in argv]) == 0
    assert main(["eval", str(run)]) == 0
    assert main(["encode", str(run), str(pics), "-o", str(tmp_path / "codes.npy")]) == 0
    assert np.load(tmp_path / "codes.npy").shape == (24, 4)
    assert main(["compress", str(run), str(pics), "-o", str(tmp_path / "p.aez")]) == 0
    assert main(["decompress", str(tmp_path / "p.aez"), "--run", str(run), "-o", str(tmp_path / "out")]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 24
    assert main(["report", str(run)]) == 0


def test_folder_options_need_a_folder(capsys):
    assert main(["train", "--image-size", "16"]) == 2
    assert "image folders" in capsys.readouterr().err


def test_streaming_from_disk_trains_exactly_like_memory(tmp_path):
    from safetensors.torch import load_file

    pics = make_images(tmp_path / "pics", count=40)
    common = ["train", "--model", "conv", "--dataset", str(pics), "--image-size", "12", "--hidden", "4"]
    common += ["--latent-dim", "3", "--epochs", "2", "--batch-size", "8"]
    assert main([*common, "--out", str(tmp_path / "memory")]) == 0
    assert main([*common, "--stream", "--out", str(tmp_path / "stream")]) == 0
    config = json.loads((tmp_path / "stream" / "config.json").read_text())
    assert config["dataset"]["stream"] is True
    memory, stream = (load_file(tmp_path / name / "model.safetensors") for name in ("memory", "stream"))
    for name in memory:
        assert torch.equal(memory[name], stream[name]), name


def test_streamed_images_index_like_an_array(tmp_path):
    spec = folder_dataset(make_images(tmp_path / "pics"), image_size=8, stream=True)
    streamed = load_folder_split(spec, "train").images
    in_memory = load_folder_split(folders.FolderDataset(spec.path, 8, 3, stream=False), "train").images
    assert isinstance(streamed, folders.StreamedImages) and streamed.shape == in_memory.shape
    np.testing.assert_array_equal(streamed[2:5], in_memory[2:5])
    np.testing.assert_array_equal(streamed[np.array([4, 0])], in_memory[[4, 0]])


def test_a_failed_training_leaves_no_empty_run_folder(tmp_path, capsys):
    pics = make_images(tmp_path / "pics", count=6)
    (pics / "zz-broken.png").write_bytes(b"\x89PNG not really")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(pics), "--image-size", "8", "--out", str(run)]) == 2
    assert "zz-broken.png" in capsys.readouterr().err
    assert not run.exists()


def test_encoding_the_training_folder_gives_the_training_arrays_codes_even_after_it_moved(tmp_path):
    from aekit.data.folders import load_split
    from aekit.inference import encode
    from aekit.runs import load_run

    pics = tmp_path / "pics"
    rng = np.random.default_rng(1)
    (pics / "more").mkdir(parents=True)
    for index in range(10):
        size = (int(rng.integers(20, 40)), int(rng.integers(20, 40)))  # not square
        where = pics / ("more" if index % 2 else "") / f"{index}.png"
        Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(where)
    run = tmp_path / "run"
    argv = ["train", "--model", "conv", "--dataset", str(pics), "--image-size", "12", "--epochs", "1"]
    assert main([*argv, "--hidden", "4", "--out", str(run)]) == 0
    assert main(["encode", str(run), str(pics), "-o", str(tmp_path / "codes.npy")]) == 0
    codes = np.load(tmp_path / "codes.npy")
    model = load_run(run).model
    dataset = load_run(run).dataset
    arrays = np.concatenate([load_split(dataset, split).images for split in ("train", "test")])
    expected = encode(model, arrays)
    assert len(codes) == len(expected) == 10
    # Every training array's code is one of the folder's codes (the file order differs).
    distances = np.abs(codes[:, None, :] - expected[None, :, :]).max(axis=2)
    assert distances.min(axis=0).max() < 1e-5
    # Moved away, the run still encodes and compresses other images; only eval needs the data.
    pics.rename(tmp_path / "elsewhere")
    assert main(["encode", str(run), str(tmp_path / "elsewhere"), "-o", str(tmp_path / "again.npy")]) == 0
    assert main(["compress", str(run), str(tmp_path / "elsewhere"), "-o", str(tmp_path / "x.aez")]) == 0
    assert main(["eval", str(run)]) == 2


def test_training_on_a_folder_reports_pca_at_the_same_code_size(tmp_path, capsys):
    import json

    pics = make_images(tmp_path / "pics", count=12)
    argv = ["train", "--model", "conv", "--dataset", str(pics), "--image-size", "12", "--epochs", "1"]
    assert main([*argv, "--hidden", "4", "--latent-dim", "3", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert f"PCA with 3 components on the same validation images: MSE {metrics['pca_val_mse']:.5f}" in out
    assert metrics["pca_val_psnr"] > 0
    # One epoch on 12 images loses to PCA, and the user is told what to try.
    assert metrics["pca_val_mse"] < metrics["val_mse"]
    assert "PCA does better than this model on these images: for photos and other natural images try" in out
    assert "--model hybrid" in out
    # A quick trial on part of the data is not a verdict on the family.
    assert main([*argv, "--hidden", "4", "--limit", "6", "--out", str(tmp_path / "trial")]) == 0
    out = capsys.readouterr().out
    assert "PCA does better than this quick trial (--limit 6" in out and "--model hybrid" not in out
