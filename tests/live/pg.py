"""A real PostgreSQL for the live room's tests: Debian's server started in a temporary folder
on a free port (its unix socket in that folder too), one fresh database per test. As root (CI
is root) the server runs through `runuser -u postgres`, because initdb refuses root.

Not installed: the tests skip with one line saying what to install, except with CI=true,
where a missing server fails the run (so CI never passes by skipping the Postgres suite).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 30  # seconds for initdb and for pg_ctl to see the server accept connections
INSTALL_HINT = "PostgreSQL is not installed: apt-get install postgresql"


def pg_bin() -> Path | None:
    """The folder of the newest installed server's programs (initdb, pg_ctl), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    """A loopback port nothing listens on now (the live tests' servers take one each)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    """A running server: where it lives, its port, and the databases made for tests."""

    folder: Path
    port: int
    bin: Path
    as_postgres: bool
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database (psycopg 3, over loopback TCP)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def plain_url(self, database: str = "postgres") -> str:
        """The same database as psycopg's own connection string."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.plain_url(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, query: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser (e.g. pg_terminate_backend); its rows."""
        import psycopg

        with psycopg.connect(self.plain_url(database), autocommit=True) as c:
            cur = c.execute(query)
            return cur.fetchall() if cur.description else []

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT,
                              cwd=self.folder)

    def start(self) -> None:
        data, sock = self.folder / "data", self.folder / "sock"
        sock.mkdir()
        if self.as_postgres:
            shutil.chown(sock, "postgres")
        r = self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U",
                      "postgres", "--no-sync", "-E", "UTF8", "--locale", "C")
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()[-500:]}")
        opts = (f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        r = self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                      str(self.folder / "log"), "-w", "-t", str(START_TIMEOUT), "start")
        if r.returncode:
            log = (self.folder / "log").read_text(errors="replace")[-800:]
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()} {log}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                  "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """Start a server, or skip (fail under CI=true) when none is installed."""
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[live]'")
    bindir = pg_bin()
    as_postgres = os.geteuid() == 0
    missing = bindir is None
    if as_postgres and not missing:
        import pwd

        try:
            pwd.getpwnam("postgres")  # initdb refuses root; the package makes this user
        except KeyError:
            missing = True
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(INSTALL_HINT + " (CI=true: the Postgres suite may not be skipped)")
        pytest.skip(INSTALL_HINT)
    # not under pytest's tmp folder: its parents are private to root, and the server runs
    # as postgres
    folder = Path(tempfile.mkdtemp(prefix="dm-pg-"))
    if as_postgres:
        shutil.chown(folder, "postgres")
    assert bindir is not None
    pg = Postgres(folder, free_port(), bindir, as_postgres)
    try:
        pg.start()
    except BaseException:
        pg.stop()
        raise
    return pg
