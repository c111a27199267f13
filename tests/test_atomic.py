"""The atomic write: regular files are replaced whole, special files are written through
and never replaced, symlinks stay symlinks, new files follow the umask, and the file is
never missing while its backup is made."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from decision_map.io.atomic import write_atomic


def _read_end(fifo: Path) -> int:
    """The FIFO's reading end, open before anyone writes (so the writer does not wait)."""
    return os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    fd = _read_end(fifo)
    try:
        write_atomic(str(fifo), "hello\n", backup=True)
        got = os.read(fd, 65536)
    finally:
        os.close(fd)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert got == b"hello\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_symlink_to_a_fifo_like_dev_stdout_is_written_through(tmp_path):
    """/dev/stdout is a symlink to the process's pipe or terminal: the same shape here."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    fd = _read_end(fifo)
    try:
        write_atomic(str(link), "trace\n")
        got = os.read(fd, 65536)
    finally:
        os.close(fd)
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == b"trace\n"


def test_a_fifo_nobody_reads_is_an_error_at_once_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        write_atomic(str(fifo), "lost\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


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


def test_a_private_file_is_its_owners_alone_whatever_the_umask(tmp_path):
    """A session holds a group's names, votes and reasons: 0600 even under umask 022, and an
    older 0644 file, with the backup made of it, loses the group and other bits."""
    f = tmp_path / "s.json"
    old = os.umask(0o022)
    try:
        write_atomic(str(f), "new", private=True)
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
        os.chmod(f, 0o644)
        write_atomic(str(f), "newer", backup=True, private=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600 and f.read_text() == "newer"
    bak = Path(str(f) + ".bak")
    assert stat.S_IMODE(os.stat(bak).st_mode) == 0o600 and bak.read_text() == "new"


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


def test_run_trace_to_a_fifo_nobody_reads_is_one_line_and_the_fifo_stays(tmp_path):
    import shutil
    import subprocess
    import sys

    exe = shutil.which("decision-map") or str(Path(sys.executable).parent / "decision-map")
    picnic = Path(__file__).resolve().parent / "fixtures" / "step" / "picnic.yaml"
    answers = tmp_path / "a.yaml"
    answers.write_text('group: [Ana, Ben, Cy]\nanswers:\n  want: "no"\n')
    fifo = tmp_path / "trace"
    os.mkfifo(fifo)
    r = subprocess.run([exe, "run", str(picnic), str(answers), "--trace", str(fifo)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip() == f"decision-map: {fifo}: cannot write it (No such device or " \
                               "address)"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
