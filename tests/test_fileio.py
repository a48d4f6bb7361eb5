import os

import pytest

from aekit.errors import AekitError
from aekit.fileio import atomic_path, atomic_write_bytes, refuse_overwrite


def test_atomic_write_replaces_whole_files_with_ordinary_permissions(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash")
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_refuse_overwrite_without_force(tmp_path):
    (tmp_path / "x").write_text("x")
    with pytest.raises(AekitError, match="--force"):
        refuse_overwrite(tmp_path / "x", force=False)
    refuse_overwrite(tmp_path / "x", force=True)
