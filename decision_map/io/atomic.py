"""Writing files so that nothing is ever half-written: write a temporary file beside the
target, flush, fsync, then rename over it (atomic on POSIX).

Only regular files (or names not there yet) are replaced that way. Anything else
(`/dev/null`, `/dev/stdout`, a FIFO, a terminal) is written through, never replaced: as
root, replacing `/dev/null` with a regular file would break the whole system. A symlink
stays a symlink: the file it points at is the one replaced. A new file gets the usual
permissions from the umask; a replaced file keeps its own. A `private` file (a session: a
group's names, votes and reasons) is its owner's alone, 0600, whatever the umask, and a
replaced one loses any group and other bits it had.
"""

from __future__ import annotations

import os
import stat
import tempfile

PRIVATE = 0o600  # a private file's mode: read and written by its owner only


def write_atomic(path: str, data: str | bytes, *, backup: bool = False,
                 private: bool = False) -> None:
    """Replace `path` with `data` atomically; with `backup`, keep the previous file as
    `path + '.bak'`. There is never a moment when `path` is missing or partly written:
    the backup is a second link to the old file, made before the new one is renamed in.
    With `private`, the file (and its backup) can be read by its owner only."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(path, raw)
        return
    target = os.path.realpath(path)  # a symlink's file, not the symlink
    folder = os.path.dirname(target) or "."
    os.makedirs(folder, exist_ok=True)
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    if private:
        mode = mode & PRIVATE if st is not None else PRIVATE
        if st is not None and backup and mode != stat.S_IMODE(st.st_mode):
            os.chmod(target, mode)  # the old file becomes the backup: private too
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if backup and st is not None:
            _keep_backup(target, os.fspath(path) + ".bak")
        os.replace(tmp, target)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _write_through(path: str, raw: bytes) -> None:
    """Write to a special file (device, FIFO, terminal) as it is, without replacing it.
    Opened without waiting: a FIFO nobody reads is an error at once (ENXIO), not a hang."""
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
        fh.flush()


def _keep_backup(target: str, bak: str) -> None:
    """Make `bak` the current `target`, leaving `target` in place: a hard link under a
    temporary name renamed over the old backup (a copy where links are refused)."""
    fd, tmp = tempfile.mkstemp(prefix=".bak-", dir=os.path.dirname(os.path.abspath(bak)))
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(target, tmp)
        except OSError:  # a file system without hard links: copy it
            with open(target, "rb") as src, open(tmp, "xb") as dst:
                dst.write(src.read())
                dst.flush()
                os.fsync(dst.fileno())
        os.replace(tmp, bak)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _fsync_folder(folder: str) -> None:
    """Make the renames in `folder` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _umask() -> int:
    """The process's umask: read from /proc on Linux (no change, no race), else set and
    restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
