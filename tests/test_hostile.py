"""Hostile input: every case is one line on stderr, exit code 2, no traceback, nothing that
existed before changed, no partial output, and bounded memory (docs/threat-model.md)."""

import hashlib
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.cli.main import main

MNIST = os.environ.get("AEKIT_DATA_DIR")
pytestmark = pytest.mark.skipif(not MNIST, reason="needs AEKIT_DATA_DIR pointing at MNIST")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A dense run trained for one epoch on 300 MNIST images, with one .aez file and its codes."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "run"
    argv = ["train", "--epochs", "1", "--limit", "300", "--hidden", "8", "--out", str(folder)]
    assert main(argv) == 0
    assert main(["compress", str(folder), "mnist:test", "-o", str(root / "test.aez")]) == 0
    assert main(["encode", str(folder), "mnist:test", "-o", str(root / "codes.npy")]) == 0
    return folder


def snapshot(*paths: Path) -> dict[str, str]:
    """SHA-256 of every file under ``paths``: what must not change."""
    found = {}
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def refused(capsys, argv, fragment: str = "") -> str:
    """Run the command line; assert the clean failure and return the one line."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]
    return lines[0]


def tampered_copy(run: Path, tmp_path: Path, name: str, content) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(run, copy)
    target = copy / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content if isinstance(content, str) else json.dumps(content))
    return copy


def edited_config(run: Path, change) -> dict:
    config = json.loads((run / "config.json").read_text())
    change(config)
    return config


CONFIG_EDITS = {
    "not an object": lambda c: c.clear() or c.update({"list": [1]}),
    "latent_dim as text": lambda c: c["model"].update(latent_dim="2"),
    "latent_dim as float": lambda c: c["model"].update(latent_dim=2.0),
    "family a list": lambda c: c["model"].update(family=["dense"]),
    "negative shape": lambda c: c["model"].update(input_shape=[1, -28, 28]),
    "4-D shape": lambda c: c["model"].update(input_shape=[1, 1, 28, 28]),
    "dataset a list": lambda c: c.update(dataset=["mnist"]),
    "dataset empty object": lambda c: c.update(dataset={}),
    "huge hidden": lambda c: c["model"].update(hidden=1_000_000),
    "huge latent": lambda c: c["model"].update(latent_dim=10**9),
    "epochs as text": lambda c: c["training"].update(epochs="abc"),
    "negative batch": lambda c: c["training"].update(batch_size=-3),
    "lr as text": lambda c: c["training"].update(lr="x"),
    "unknown setting": lambda c: c["training"].update(surprise=1),
    "limit negative": lambda c: c.update(limit=-1),
    "layout bad": lambda c: c.update(layout={"kind": "xyz"}),
}


@pytest.mark.parametrize("case", sorted(CONFIG_EDITS))
def test_tampered_config_json(run, tmp_path, capsys, case):
    config = edited_config(run, CONFIG_EDITS[case])
    copy = tampered_copy(run, tmp_path, "config.json", config)
    before = snapshot(copy)
    for argv in (["summary", copy], ["encode", copy, "mnist:test", "-o", tmp_path / "c.npy"]):
        refused(capsys, argv, "config.json")
    assert snapshot(copy) == before and not (tmp_path / "c.npy").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not text",
        b"[1, 2, 3]",
        b'{"history": [{"epoch": "one"}]}',
        b'{"val_mse": {"a": 1}}',
        b"[" * 100_000,
    ],
)
def test_tampered_metrics_json(run, tmp_path, capsys, content):
    copy = tampered_copy(run, tmp_path, "metrics.json", content)
    refused(capsys, ["report", copy], "metrics.json")
    assert not (copy / "report.html").exists()


def test_config_json_that_is_a_fifo_or_huge_is_refused_without_reading(run, tmp_path, capsys):
    copy = tmp_path / "fifo"
    shutil.copytree(run, copy)
    (copy / "config.json").unlink()
    os.mkfifo(copy / "config.json")
    refused(capsys, ["summary", copy], "not a regular file")
    huge = tmp_path / "huge"
    shutil.copytree(run, huge)
    with open(huge / "config.json", "wb") as handle:
        handle.truncate(20 << 20)  # sparse: 20 MiB declared, nothing written
    refused(capsys, ["summary", huge], "more than")


def test_checkpoints_edited_foreign_or_of_another_architecture(run, tmp_path, capsys):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = run / "checkpoint.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(path))
    for edit in ({"epoch": 999}, {"param_groups": "x"}, {"history": []}, {"scheduler": {"__class__": 1}}):
        copy = tmp_path / f"edited{len(list(tmp_path.iterdir()))}"
        shutil.copytree(run, copy)
        inner = json.loads(metadata["aekit_checkpoint"])
        inner.update(edit)
        save_file(
            tensors, str(copy / "checkpoint.safetensors"), metadata={"aekit_checkpoint": json.dumps(inner)}
        )
        before = snapshot(copy)
        refused(capsys, ["train", "--resume", copy], "checkpoint.safetensors")
        assert snapshot(copy) == before
    # Another run of the same architecture: its checkpoint is not this run's.
    other = tmp_path / "other"
    argv = ["train", "--epochs", "1", "--limit", "300", "--hidden", "8", "--seed", "5", "--out", other]
    assert main([str(a) for a in argv]) == 0
    capsys.readouterr()
    foreign = tmp_path / "foreign"
    shutil.copytree(run, foreign)
    shutil.copy(other / "checkpoint.safetensors", foreign / "checkpoint.safetensors")
    refused(capsys, ["train", "--resume", foreign], "another run")
    # A checkpoint of another architecture under this run's id.
    wider = tmp_path / "wider"
    argv = ["train", "--epochs", "1", "--limit", "300", "--hidden", "9", "--out", wider]
    assert main([str(a) for a in argv]) == 0
    capsys.readouterr()
    config = json.loads((wider / "config.json").read_text())
    config["model"]["hidden"] = 8
    (wider / "config.json").write_text(json.dumps(config))
    refused(capsys, ["train", "--resume", wider], "not this model's")


def test_crafted_entropy_tables(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    aez = run.parent / "test.aez"
    fingerprint = aez.read_bytes()[6:22].hex()
    tables = {
        "wrong dimensions": {"step": 1.0, "low": [0], "counts": [[1, 2]]},
        "huge counts": '{"step": 1.0, "low": [0, 0], "counts": [[1' + "0" * 400 + ", 1], [1, 1]]}",
        "infinite sum": {"step": 1.0, "low": [0, 0], "counts": [[2**60, 2**60], [1, 1]]},
        "not json": "{{{",
        "nested": "[" * 50_000,
    }
    for name, table in tables.items():
        (copy / "entropy" / f"{fingerprint}.json").write_text(
            table if isinstance(table, str) else json.dumps(table)
        )
        line = refused(capsys, ["decompress", aez, "--run", copy, "-o", tmp_path / "out.npy"], "")
        expected = "holds tables for codes of 1 numbers" if name == "wrong dimensions" else "damaged"
        assert expected in line or "mixes two runs" in line, (name, line)
    assert not (tmp_path / "out.npy").exists()
    shutil.rmtree(copy / "entropy")
    (copy / "entropy").write_text("a file where a folder belongs")
    refused(capsys, ["compress", copy, "mnist:test", "--step", "2", "-o", tmp_path / "x.aez"], "entropy")
    assert not (tmp_path / "x.aez").exists()


def aez_with(data: bytes, **fields) -> bytes:
    """``data`` with header fields replaced and the CRC recomputed (a crafted, valid frame)."""
    from aekit.codec.aez import HEADER

    names = (
        "magic", "version", "flags", "fingerprint", "channels", "height", "width", "latent", "count",
        "step", "residual_step", "escapes", "size", "residual_size",
    )  # fmt: skip
    values = dict(zip(names, HEADER.unpack_from(data), strict=True))
    values.update(fields)
    payload = fields.pop("payload", data[HEADER.size : -4])
    values.pop("payload", None)
    body = HEADER.pack(*values.values()) + payload
    return body + struct.pack("<I", zlib.crc32(body))


def test_crafted_aez_headers(run, tmp_path, capsys):
    aez = run.parent / "test.aez"
    data = aez.read_bytes()
    cases = {
        "count bomb": (aez_with(data, count=1_000_000), "--max-images"),
        "another shape": (aez_with(data, height=14, width=56), "image shape"),
        "another code size": (aez_with(data, latent=3), "code size"),
    }
    for name, (crafted, fragment) in cases.items():
        path = tmp_path / f"{name}.aez"
        path.write_bytes(crafted)
        refused(capsys, ["decompress", path, "--run", run, "-o", tmp_path / "out.npy"], fragment)
        assert not (tmp_path / "out.npy").exists()
    # A file far larger than any real one, with a valid header: refused from its header alone.
    big = tmp_path / "big.aez"
    big.write_bytes(data[:52])  # the header alone
    with open(big, "r+b") as handle:
        handle.truncate(3 << 30)  # sparse 3 GB
    refused(capsys, ["decompress", big, "--run", run, "-o", tmp_path / "out.npy"], "declares")


def test_the_most_probable_code_a_million_times_is_not_refused_as_impossible(run):
    from aekit.codec.aez import HEADER, Header, check_fits, unpack
    from aekit.codec.entropy import encode_symbols
    from aekit.codec.tables import find_tables
    from aekit.runs import load_run

    loaded = load_run(run)
    header, _ = unpack((run.parent / "test.aez").read_bytes())
    model = find_tables(loaded, run, header.fingerprint).latent
    likeliest = model.probabilities(escape=True).argmax(axis=1)
    payload = encode_symbols(model, np.tile(likeliest, (1_000_000, 1)).astype(np.int32), escape=True)
    crafted = Header(
        header.fingerprint, header.shape, header.latent_dim, 1_000_000, header.step, len(payload)
    )
    check_fits(crafted, loaded, model, "x.aez", max_images=1_000_000)
    assert HEADER.size + len(payload) < 200_000  # a small file that the limit, not the fit, must stop


@pytest.mark.parametrize(
    "kind, fragment",
    [
        ("npz named npy", "not a readable .npy"),
        ("header bomb", "declares"),
        ("objects", "not a readable .npy"),
        ("huge floats", "finite float32 (it holds an array with NaN, infinite or huge values)"),
        ("text", "not a readable .npy"),
    ],
)
def test_hostile_npy_files(run, tmp_path, capsys, kind, fragment):
    path = tmp_path / "x.npy"
    if kind == "npz named npy":
        np.savez(tmp_path / "x.npz", a=np.zeros((3, 2)))
        (tmp_path / "x.npz").rename(path)
    elif kind == "header bomb":
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 2), }"
        path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n")
    elif kind == "objects":
        header = "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }"
        path.write_bytes(
            b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n" + b"\0" * 32
        )
    elif kind == "huge floats":
        np.save(path, np.full((2, 2), 1e300))
    else:
        path.write_text("just text")
    refused(capsys, ["decode", run, path, "-o", tmp_path / "out.npy"], fragment)
    assert not (tmp_path / "out.npy").exists()


def test_an_empty_image_array_is_refused_in_plain_words(run, tmp_path, capsys):
    np.save(tmp_path / "empty.npy", np.zeros((0, 28, 28), np.float32))
    argv = ["encode", run, tmp_path / "empty.npy", "-o", tmp_path / "c.npy"]
    refused(capsys, argv, "must hold at least one image")


def test_bad_output_paths(run, tmp_path, capsys):
    codes = run.parent / "codes.npy"
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "afile").write_text("mine")
    cases = [
        (["encode", run, "mnist:test", "-o", tmp_path / "dir.npy", "--force"], "folder"),
        (["encode", run, "mnist:test", "-o", tmp_path / "codes.txt", "--force"], ".npy"),
        (["encode", run, "mnist:test", "-o", "/proc/x.npy"], "cannot write"),
        (["encode", run, "mnist:test", "-o", tmp_path / "afile" / "x.npy"], "cannot write"),
        (["decode", run, codes, "-o", tmp_path / "afile" / "pngs"], "cannot write"),
    ]
    before = snapshot(tmp_path)
    for argv, fragment in cases:
        refused(capsys, argv, fragment)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--seed", str(2**70)], "--seed"),
        (["train", "--seed", "-1"], "--seed"),
        (["train", "--hidden", str(10**9)], "--hidden"),
        (["train", "--latent-dim", str(10**9)], "--latent-dim"),
        (["train", "--model", "conv", "--hidden", "300", "--latent-dim", "32"], "parameters"),
        (["train", "--val-fraction", "1.5"], "val_fraction"),
    ],
)
def test_extreme_training_options_leave_no_run_behind(tmp_path, capsys, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    refused(capsys, argv, fragment)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["compress", "{run}", "mnist:test", "--step", "1e-50", "-o", "{tmp}/x.aez"], "--step"),
        (["compress", "{run}", "mnist:test", "--step", "1e39", "-o", "{tmp}/x.aez"], "--step"),
        (["manifold", "{run}", "-n", "3000", "-o", "{tmp}/m.png"], "-n 3000"),
        (["interpolate", "{run}", "--pair", "1,2", "--steps", "100000000", "-o", "{tmp}/i.png"], "--steps"),
        (["sample", "{run}", "-n", "5", "-o", "{tmp}/s.png"], "vae"),
    ],
)
def test_extreme_command_options_write_nothing(run, tmp_path, capsys, argv, fragment):
    before = snapshot(run)
    refused(capsys, [a.format(run=run, tmp=tmp_path) for a in argv], fragment)
    assert snapshot(run) == before and not any(tmp_path.iterdir())


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_image_bombs_and_oversized_images(run, tmp_path, capsys):
    bomb = tmp_path / "bomb.png"
    # A PNG of a few dozen bytes whose header declares 8,000 x 8,000 pixels (64 million).
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )
    for command in ("encode", "compress"):
        suffix = ".npy" if command == "encode" else ".aez"
        refused(capsys, [command, run, bomb, "-o", tmp_path / f"x{suffix}"], "over the limit")
    folder = tmp_path / "pics"
    folder.mkdir()
    for index in range(3):
        Image.new("RGB", (40, 40)).save(folder / f"{index}.png")
    refused(
        capsys,
        ["train", "--dataset", folder, "--image-size", "20000", "--out", tmp_path / "r"],
        "--image-size",
    )


def test_decoding_into_a_png_folder_is_all_or_nothing_even_when_killed(run, tmp_path):
    codes = tmp_path / "many.npy"
    np.save(codes, np.zeros((20_000, 2), np.float32))
    out = tmp_path / "pngs"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "aekit", "decode", str(run), str(codes), "-o", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith(".pngs.") for p in tmp_path.iterdir()):
        time.sleep(0.01)
    time.sleep(0.3)  # well into writing the PNGs
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists()  # no half-filled folder to refuse or mistake for a result
    assert main(["decode", str(run), str(codes), "-o", str(out)]) == 0
    assert len(list(out.iterdir())) == 20_000


def test_leftovers_of_a_killed_checkpoint_write_are_removed_on_resume(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    leftover = copy / ".checkpoint.safetensors.x1y2.tmp"
    leftover.write_bytes(b"\0" * 1000)
    assert main(["train", "--resume", str(copy), "--epochs", "2"]) == 0
    assert not leftover.exists()


def test_run_files_follow_the_umask(run):
    umask = os.umask(0)
    os.umask(umask)
    for name in ("config.json", "model.safetensors", "checkpoint.safetensors", "metrics.json"):
        assert (run / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


MEMORY_PROBE = """
import resource, sys
from aekit.cli.main import main
code = main(sys.argv[1:])
print("PEAK_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "CODE", code)
"""


def test_worst_hostile_inputs_stay_within_memory_and_time(run, tmp_path):
    """The heaviest cases, each in its own process under an 8 GB address-space cap so that a
    regression fails here instead of swapping: peak memory under 2 GB, time under 60 s."""
    aez = tmp_path / "bomb.aez"
    aez.write_bytes(aez_with((run.parent / "test.aez").read_bytes(), count=1_000_000))
    npy = tmp_path / "bomb.npy"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 2), }"
    npy.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n")
    # Just under the pixel limit: 49 million RGBA pixels in a file of about 200 KB.
    big = np.zeros((7000, 7000, 4), np.uint8)
    big[..., 0], big[..., 3] = 200, 128
    Image.fromarray(big, "RGBA").save(tmp_path / "big.png", compress_level=1)
    del big
    cases = [
        ["encode", str(run), str(tmp_path / "big.png"), "-o", str(tmp_path / "big.npy")],
        ["decompress", str(aez), "--run", str(run), "-o", str(tmp_path / "o.npy")],
        ["decode", str(run), str(npy), "-o", str(tmp_path / "o2.npy")],
        ["train", "--hidden", "1000000", "--out", str(tmp_path / "r")],
    ]
    worst = 0
    for argv in cases:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30)),
        )
        expected = "CODE 0" if argv[0] == "encode" else "CODE 2"  # the big image is valid, just big
        assert expected in done.stdout, done.stdout + done.stderr
        peak = int(done.stdout.split("PEAK_MB")[1].split()[0])
        worst = max(worst, peak)
        assert peak < 2048 and time.monotonic() - started < 60
    print(f"\nworst hostile case: peak {worst} MB")


def test_a_checkpoint_killed_mid_write_leaves_a_resumable_run(tmp_path):
    """SIGKILL at an arbitrary moment of training: the checkpoint on disk is always a whole one
    (the previous or the new), and --resume finishes the run."""
    from aekit.training.checkpoints import load_checkpoint

    folder = tmp_path / "run"
    command = [sys.executable, "-m", "aekit", "train", "--epochs", "40", "--limit", "2000", "--hidden", "8"]
    process = subprocess.Popen(
        [*command, "--out", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (folder / "checkpoint.safetensors").exists():
        time.sleep(0.01)
    time.sleep(0.37)  # a few more epochs, each ending in a checkpoint write
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = load_checkpoint(folder / "checkpoint.safetensors")
    assert 1 <= saved.epoch <= 40
    assert main(["train", "--resume", str(folder)]) == 0
    assert json.loads((folder / "metrics.json").read_text())["epochs"] == 40
    assert not list(folder.glob(".*.tmp"))


# --- the six kinds the hostile-input sweep found slipping through ------------------------------


def test_weights_that_are_a_fifo_are_refused_without_hanging(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.safetensors").unlink()
    os.mkfifo(copy / "model.safetensors")
    refused(capsys, ["encode", copy, "mnist:test", "-o", tmp_path / "c.npy"], "not a regular file")


def test_a_looping_link_in_an_image_folder_is_an_error_not_a_missing_image(run, tmp_path, capsys):
    folder = tmp_path / "pics"
    folder.mkdir()
    for index in range(2):
        Image.new("L", (28, 28), 40 * index).save(folder / f"{index}.png")
    (folder / "loop.png").symlink_to("loop.png")
    line = refused(capsys, ["encode", run, folder, "-o", tmp_path / "c.npy"], "loop.png")
    assert "looping link" in line
    from aekit.data.images import image_files

    with pytest.warns(UserWarning, match="skipping .*loop.png: not a regular file"):
        assert [p.name for p in image_files([folder], skip_bad=True)] == ["0.png", "1.png"]


def test_an_image_over_pillows_own_limit_is_refused_in_one_line(run, tmp_path, capsys):
    """144 Mpx: past Pillow's warning threshold (89 Mpx), below its error (179 Mpx); Pillow's
    warning must not reach the user's terminal as two extra lines."""
    big = tmp_path / "big.png"
    big.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 12_000, 12_000, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )
    refused(capsys, ["encode", run, big, "-o", tmp_path / "c.npy"], "over the limit")


def test_train_into_a_folder_under_a_file_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "a").write_text("not a folder")
    line = refused(
        capsys, ["train", "--epochs", "1", "--limit", "50", "--out", tmp_path / "a" / "run"], "--out"
    )
    assert "is a file" in line


def test_decoding_into_a_png_folder_stopped_by_sigterm_leaves_nothing(run, tmp_path):
    codes = tmp_path / "many.npy"
    np.save(codes, np.zeros((20_000, 2), np.float32))
    out = tmp_path / "pngs"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "aekit", "decode", str(run), str(codes), "-o", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith(".pngs.") for p in tmp_path.iterdir()):
        time.sleep(0.01)
    time.sleep(0.3)  # well into writing the PNGs
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.npy"]  # no output, no hidden folder


def test_stored_tables_for_another_code_size_are_not_used(run, tmp_path, capsys):
    """Tables named by their own fingerprint (so they pass that check) but for 3 numbers a
    code, in a run whose codes have 2: refused in one line, never a traceback."""
    from aekit.codec.entropy import fit_entropy_model
    from aekit.codec.tables import tables_path
    from aekit.runs import load_run

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "entropy")
    model = load_run(copy).model
    wrong = fit_entropy_model(np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32), 1.0)
    path = tables_path(copy, model, wrong)
    path.parent.mkdir(exist_ok=True)
    path.write_text(wrong.to_json())
    # compress fits tables of the right size beside them and uses those ...
    assert main(["compress", str(copy), "mnist:test", "-o", str(tmp_path / "t.aez")]) == 0
    # ... and a file naming the wrong ones by their fingerprint is refused.
    data = bytearray((tmp_path / "t.aez").read_bytes())
    data[6:22] = bytes.fromhex(path.stem)[:16]
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    (tmp_path / "w.aez").write_bytes(bytes(data))
    capsys.readouterr()
    line = refused(
        capsys, ["decompress", tmp_path / "w.aez", "--run", copy, "-o", tmp_path / "w.npy"], path.name
    )
    assert "codes of 3 numbers" in line
