"""Two writers of one output: exactly one proceeds, the other is refused in one line, and the
output is never a mix of the two."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aekit.cli.main import main
from aekit.errors import AekitError
from aekit.fileio import exclusive

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_writer_of_the_same_path_is_refused_and_the_lock_file_goes(tmp_path):
    target = tmp_path / "out.aez"
    with exclusive(target):
        with pytest.raises(AekitError, match="being written by another aekit process") as caught:
            with exclusive(target):
                pass
        assert "\n" not in str(caught.value)
        with exclusive(tmp_path / "other.aez"):  # another path is not held
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with exclusive(target):  # free again
        pass


def test_a_lock_file_left_by_a_killed_writer_does_not_block_the_next(tmp_path):
    (tmp_path / ".out.aez.lock").write_text("")  # what SIGKILL leaves: a file, no lock
    with exclusive(tmp_path / "out.aez"):
        pass
    assert not (tmp_path / ".out.aez.lock").exists()


def start(argv: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "aekit", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_two_trainings_into_one_folder(tmp_path, capsys, require_mnist):
    first = start(["train", "--epochs", "3", "--limit", "3000", "--out", "run"], tmp_path)
    wait_for(tmp_path / ".run.lock", first)
    # Even with --force the second neither starts nor removes the first one's files.
    assert main(["train", "--epochs", "1", "--limit", "100", "--out", str(tmp_path / "run"), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "being written by another aekit process" in err
    assert first.wait(timeout=300) == 0, first.communicate()
    assert main(["eval", str(tmp_path / "run")]) == 0  # the first run, whole
    assert not (tmp_path / ".run.lock").exists()


def test_two_compressions_into_one_file(tmp_path, capsys, require_mnist):
    first = start(["compress", "mnist-codec", "mnist:test", "-o", "same.aez", "--quality", "12"], tmp_path)
    wait_for(tmp_path / ".same.aez.lock", first)
    assert (
        main(["compress", "mnist-codec", "mnist:test", "-o", str(tmp_path / "same.aez"), "--quality", "1"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "being written by another aekit process" in err
    assert first.wait(timeout=300) == 0, first.communicate()
    assert main(["decompress", str(tmp_path / "same.aez"), "-o", str(tmp_path / "same.npy")]) == 0
    from aekit.data.idx import load_dataset

    levels = np.rint(np.load(tmp_path / "same.npy") * 255)
    np.testing.assert_array_equal(
        levels, np.rint(load_dataset("test").images[:, 0] * 255)
    )  # lossless: the first's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.aez", "same.npy"]
