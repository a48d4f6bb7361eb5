"""Small file helpers shared by every module that writes: atomic writes and overwrite guards."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aekit.errors import AekitError

TEMPORARY_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    A crash or exception part-way leaves the old file (if any) untouched and no half-written
    file behind, because the rename is the only step that makes the new content visible.
    """
    path = Path(path)
    if path.is_dir():
        raise AekitError(f"{path} is a folder; name a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise AekitError(f"cannot write {path} ({exc.strerror}); choose another place") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # Writers such as safetensors replace the file with one of their own (0600): whatever
        # is there now gets the permissions a plain open() would give.
        tmp_path.chmod(0o666 & ~current_umask())
        os.replace(tmp_path, path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise AekitError(f"cannot write {path} ({exc.strerror}); choose another place") from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, what: str = "output") -> Iterator[None]:
    """Hold, while the block runs, the right to write ``path`` (a file or a folder, which may
    not exist yet): a second aekit process asking for the same path is refused at once.

    The lock is an advisory ``flock`` on ``.NAME.lock`` beside ``path``, which the operating
    system releases if the process dies; the file is removed when the block ends (a killed
    holder's is taken over by the next writer and removed then)."""
    path = Path(path)
    if not path.parent.is_dir():
        yield  # nothing exists there yet for another writer to share; the write itself says why
        return
    lock_path = path.parent / f".{path.name}.lock"
    while True:
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise AekitError(f"cannot write {path} ({exc.strerror}); choose another place") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AekitError(
                f"{path} is being written by another aekit process; wait for it to finish or choose "
                f"another {what}"
            ) from None
        # A holder that just finished removed the file we opened: lock the one there now.
        try:
            current = os.stat(lock_path).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(descriptor)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(descriptor)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden temporary folder beside ``path``; on success it replaces ``path`` whole.

    An interrupted writer leaves no half-filled folder under the final name."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent))
    except OSError as exc:
        raise AekitError(f"cannot write {path} ({exc.strerror}); choose another place") from None
    try:
        yield staging
        staging.chmod(0o777 & ~current_umask())
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(staging, path)
    except OSError as exc:
        raise AekitError(f"cannot write {path} ({exc.strerror}); choose another place") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def remove_leftovers(folder: str | os.PathLike) -> None:
    """Delete temporary files that a killed writer (SIGKILL, power loss) left in ``folder``."""
    for leftover in Path(folder).glob(f".*{TEMPORARY_SUFFIX}"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def regular_file_size(path: str | os.PathLike, what: str = "file") -> int:
    """The size of ``path``, refusing anything but a plain file (a FIFO would block a reader,
    a device never end)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AekitError(f"{path} is missing") from None
    except OSError as exc:
        raise AekitError(f"{path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise AekitError(f"{path} is not a regular file; a {what} must be one")
    return info.st_size


def read_bytes_limited(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing before reading anything one that is
    larger than ``limit`` bytes or is not a plain file."""
    size = regular_file_size(path, what)
    if size > limit:
        raise AekitError(f"{path} is {size:,} bytes, more than a {what} can be ({limit:,}); it is not one")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)[:limit]
    except OSError as exc:
        raise AekitError(f"{path} cannot be read ({exc.strerror})") from None


def read_json_limited(path: str | os.PathLike, limit: int = 1 << 20, what: str = "JSON file"):
    """The JSON value in ``path`` (see :func:`read_bytes_limited`); damage is an AekitError."""
    data = read_bytes_limited(path, limit, what)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AekitError(f"{path} is damaged: not valid JSON ({exc}); restore or recreate it") from None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def refuse_overwrite(path: str | os.PathLike, force: bool) -> None:
    """Raise unless ``path`` is free to write or ``force`` was given."""
    path = Path(path)
    if path.exists() and not force:
        raise AekitError(f"{path} already exists; choose another name or pass --force to replace it")
