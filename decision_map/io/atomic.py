"""Writing files so that nothing is ever half-written: write a temporary file beside the
target, flush, fsync, then rename over it (atomic on POSIX)."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, data: str | bytes, *, backup: bool = False) -> None:
    """Replace `path` with `data` atomically; with `backup`, keep the previous file as
    `path + '.bak'`."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if backup and os.path.exists(path):
            os.replace(path, path + ".bak")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
