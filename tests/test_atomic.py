"""The atomic write: regular files are replaced whole, special files are written through
and never replaced, symlinks stay symlinks, new files follow the umask, and the file is
never missing while its backup is made."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from decision_map.io.atomic import write_atomic


def _reader(fifo: Path, got: list[bytes]) -> threading.Thread:
    """Read a FIFO to its end in a thread; its open waits for the writer (a daemon thread,
    so a writer that never comes fails the test at the join instead of hanging it)."""

    def run() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    t = _reader(fifo, got)
    write_atomic(str(fifo), "hello\n", backup=True)
    t.join(5)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert got == [b"hello\n"]
    assert not (tmp_path / "pipe.bak").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_symlink_to_a_fifo_like_dev_stdout_is_written_through(tmp_path):
    """/dev/stdout is a symlink to the process's pipe or terminal: the same shape here."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    got: list[bytes] = []
    t = _reader(fifo, got)
    write_atomic(str(link), "trace\n")
    t.join(5)
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == [b"trace\n"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_like_dev_null_stays_a_device(tmp_path):
    """A private copy of /dev/null (the same device numbers), so the real one is never at
    risk even when this test fails."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(null, 0o666)  # mknod applies the umask
    write_atomic(str(null), "gone\n", backup=True)
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(st.st_mode) == 0o666


def test_a_symlink_stays_a_symlink_and_its_file_is_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(str(link), "new\n", backup=True)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    assert Path(str(link) + ".bak").read_text() == "old\n"


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_its_permissions_from_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        write_atomic(str(tmp_path / "new.json"), "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == mode


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    f = tmp_path / "kept.json"
    f.write_text("old")
    os.chmod(f, 0o640)
    write_atomic(str(f), "new", backup=True)
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o640 and f.read_text() == "new"


def test_the_file_is_never_missing_while_its_backup_is_made(tmp_path):
    """Watch every rename and link the write makes (an audit hook, Python's own): at each
    one the file must be there, whole, old or new. Before, the file was renamed to .bak
    first, so a crash between the two renames left only the backup."""
    import sys

    f = tmp_path / "s.json"
    f.write_text("old\n")
    seen: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event in ("os.rename", "os.link") and str(args[0]).startswith(str(tmp_path)):
            seen.append(f.read_text() if f.exists() else "<missing>")

    sys.addaudithook(hook)  # stays for the process; it only looks in this test's folder
    write_atomic(str(f), "new\n", backup=True)
    assert seen and "<missing>" not in seen, seen
    assert f.read_text() == "new\n" and Path(str(f) + ".bak").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.bak"]
