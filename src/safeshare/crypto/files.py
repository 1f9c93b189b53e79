"""Secret files (keyrings, signing keys): written atomically with mode 0600, and refused on
read when group or others can access them.

Secret files live outside the database: whoever steals a database dump must not also get the
keys that decrypt it or the key that signs the audit log's checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from safeshare.crypto.errors import KeyFileError

__all__ = ["read_secret_file", "write_secret_file"]

_POSIX = os.name == "posix"


def read_secret_file(
    path: str | os.PathLike[str], *, allow_insecure_permissions: bool = False
) -> bytes:
    """Read a secret file. On POSIX, refuse (``KeyFileError``) a file that group or others
    can read, write or execute, unless ``allow_insecure_permissions=True``.

    The mode is checked on the opened file descriptor (``fstat``), so the file checked is the
    file read. Symbolic links are followed (Kubernetes mounts secrets through them)."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileError(f"key file {p} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"cannot open key file {p}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"key file {p} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if _POSIX and mode & 0o077 and not allow_insecure_permissions:
            raise KeyFileError(
                f"key file {p} is accessible by group or others (mode {mode:04o}); "
                f"restrict it with `chmod 600 {p}` (or pass allow_insecure_permissions=True "
                "if another control protects it)"
            )
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {p}: {exc.strerror}") from None
    finally:
        os.close(fd)


def write_secret_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600: a temporary file created 0600 in
    the same directory (``O_EXCL``), flushed to disk, then renamed over ``path``; the directory
    is flushed too on POSIX. A reader sees the old file or the new one, never half of one, and
    the secret is never on disk with a wider mode."""
    p = Path(path)
    directory = p.parent
    tmp = directory / f".{p.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot create key file in {directory}: {exc.strerror}") from None
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # the umask can only narrow 0600, but be explicit
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, p)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KeyFileError(f"cannot write key file {p}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if _POSIX:
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
