"""`decision-map serve`: the live room's command, added to the command line through the
`decision_map.commands` entry point so the core never imports this package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from .server import LiveServer


MAX_WORKERS = 64  # the most worker processes `serve --workers` starts


def register(app: typer.Typer) -> None:
    """Add `serve`, `open-room`, `db upgrade` and `db expire` to the command line."""
    app.command("serve")(serve)
    app.command("open-room")(open_room_cmd)
    db = typer.Typer(help="The live room's database.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    db.command("expire")(db_expire)
    app.add_typer(db, name="db")


def _database(database: Optional[str]) -> str:
    """The database URL the user meant (default: the laptop's SQLite file)."""
    import platformdirs

    from .store import database_url

    return database_url(database, Path(platformdirs.user_data_dir("decision-map")) / "live")


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn what can go wrong reaching a database (a bad URL, a server that does not answer,
    a missing driver) into one located line and exit 2, the same for every command."""
    import sqlalchemy as sa

    from decision_map.cli.main import fail

    from .store import StoreError

    try:
        yield
    except StoreError as e:
        raise fail(f"--database: {e}", 2) from None
    except sa.exc.OperationalError as e:
        raise fail(f"--database: cannot connect: {str(e.orig).strip().splitlines()[0]}",
                   2) from None
    except ModuleNotFoundError as e:  # the database's driver (psycopg for Postgres)
        raise fail(f"--database: its driver is missing ({e.name}): "
                   "pip install 'decision-map[live]'", 2) from None


def db_upgrade(
    database: Optional[str] = typer.Option(
        None, "--database", help="sqlite:///PATH or postgresql://USER@HOST/NAME "
        "(default: the SQLite file in your data folder)."),
) -> None:
    """Apply the live room's schema migrations to its database.

    Run it before `serve` on Postgres, and after installing a new decision-map."""
    from decision_map.cli.main import fail

    try:
        from .store import schema_problem, upgrade
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None

    with database_errors():
        url = _database(database)
        before = schema_problem(url)
        upgrade(url)
    typer.echo("the database's schema is up to date" if before is None
               else "the database's schema is upgraded to the newest migration")



def _settings(**options: object) -> object:
    """The hosting settings from the environment, with the options given on the command line
    written into it first (so worker processes started from here read the same)."""
    import os

    from decision_map.cli.main import fail

    from .config import ConfigError, Settings

    for name, value in options.items():
        if value is not None:
            os.environ[name] = str(value)
    try:
        return Settings.from_env()
    except ConfigError as e:
        raise fail(str(e), 2) from None


def db_expire(
    database: Optional[str] = typer.Option(
        None, "--database", help="The database (default: the SQLite file in your data folder)."),
    room_ttl: Optional[str] = typer.Option(
        None, "--room-ttl", help="Delete an unfinished room this long after its last event "
        "(e.g. 30d; default DECISION_MAP_ROOM_TTL or 30d)."),
    report_ttl: Optional[str] = typer.Option(
        None, "--report-ttl", help="Delete a finished room, and its report, this long after "
        "its last event (default DECISION_MAP_REPORT_TTL or 90d)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be deleted; "
                                 "delete nothing."),
) -> None:
    """Delete expired rooms and all their data now (a running server also does this every
    DECISION_MAP_SWEEP_EVERY)."""
    from decision_map.cli.main import fail

    try:
        import sqlalchemy as sa

        from .config import REPORT_TTL, ROOM_TTL
        from .expiry import MAX_ROOMS_PER_SWEEP, Sweeper
        from .store import Store, StoreError
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None
    settings = _settings(**{ROOM_TTL: room_ttl, REPORT_TTL: report_ttl})
    try:
        url = _database(database)
        sweeper = Sweeper(Store(url), settings.room_ttl, settings.report_ttl)
        total = rows = kept = 0
        for _ in range(100):  # at most 100 sweeps of MAX_ROOMS_PER_SWEEP rooms in one run
            swept = sweeper.sweep(dry_run=dry_run, wait=True)  # after a server's sweep
            total, rows, kept = total + swept.rooms, rows + swept.rows, swept.kept
            if dry_run or swept.rooms + swept.kept < MAX_ROOMS_PER_SWEEP:
                break
    except StoreError as e:
        raise fail(f"--database: {e}", 2) from None
    except sa.exc.SQLAlchemyError as e:
        line = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise fail(f"--database: {line}", 2) from None
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {total} expired room{'s' * (total != 1)}"
               + ("" if dry_run else f" ({rows} rows)")
               + f"; kept {kept} finished room{'s' * (kept != 1)} for their reports")


def open_room_cmd(
    map_file: Path = typer.Argument(..., metavar="MAP", help="The map (a file or a shipped name)."),
    group: Optional[str] = typer.Option(None, "--group", help='The members: "Ana, Ben, Cy".'),
    database: Optional[str] = typer.Option(
        None, "--database", help="The database a running `serve` serves (default: the SQLite "
        "file in your data folder)."),
    public_url: Optional[str] = typer.Option(
        None, "--public-url", help="The server's public address, e.g. https://rooms.example.org "
        "(default DECISION_MAP_PUBLIC_URL, else http://127.0.0.1:8000)."),
) -> None:
    """Open another room in the database a server is serving, and print its three links: the
    running server serves it at once (the map file must be readable by the server too)."""
    from decision_map.cli.main import fail, map_arg
    from decision_map.cli.prompting import VoteInputError, parse_group
    from decision_map.io.loader import load_map

    try:
        from .config import PUBLIC_URL
        from .server import open_room, open_store
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None
    settings = _settings(**{PUBLIC_URL: public_url})
    if not group:
        raise fail('give the members: --group "Ana, Ben, Cy"', 2)
    try:
        names = parse_group(group)
    except VoteInputError as e:
        raise fail(f"--group: {e}", 2) from None
    dm = load_map(map_arg(map_file))
    with database_errors():
        store = open_store(_database(database))  # no key needed: nothing is signed here
        links = open_room(store, dm, names, settings.public_url or "http://127.0.0.1:8000")
    typer.echo(f"Facilitator: {links.facilitator}")
    typer.echo(f"Projector: {links.projector}")
    typer.echo(f"Join: {links.join} (code {links.code})")


def serve(
    map_file: Optional[Path] = typer.Argument(
        None, metavar="MAP", help="The map (a file or a shipped name); not with --room."),
    group: Optional[str] = typer.Option(None, "--group", help='The members: "Ana, Ben, Cy".'),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="The port to listen on."),
    database: Optional[str] = typer.Option(
        None, "--database", help="sqlite:///PATH or postgresql://USER@HOST/NAME (default: a "
        "SQLite file in your data folder)."),
    lan: bool = typer.Option(False, "--lan", help="Listen on the local network and show a "
                             "QR code for the join link."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Open the room where this session file (from `decision-map "
        "step` or a room's download) left off."),
    room: Optional[str] = typer.Option(
        None, "--room", help="Serve this room of the database again (a paused meeting, or "
        "after a restart); prints new facilitator and projector links."),
    ballot: str = typer.Option("named", "--ballot", metavar="named|hidden|secret",
                               help="The default ballot: named, hidden until close, or secret "
                               "(the facilitator can change it per question)."),
    open_roster: bool = typer.Option(False, "--open-roster", help="Let members add a name "
                                     "that is not in --group (counted from the next "
                                     "question on)."),
    workers: int = typer.Option(1, "--workers", min=1, max=MAX_WORKERS, help="Worker "
                                "processes (more than one needs --database postgresql://...)."),
    https: bool = typer.Option(False, "--https", help="The public address is HTTPS (a proxy "
                               "in front ends TLS): Secure cookies and HSTS. Env "
                               "DECISION_MAP_HTTPS=1."),
    trusted_proxies: Optional[str] = typer.Option(
        None, "--trusted-proxies", help="Addresses of the reverse proxies whose "
        "X-Forwarded-For/-Proto to believe, e.g. 127.0.0.1. Env DECISION_MAP_TRUSTED_PROXIES."),
    public_url: Optional[str] = typer.Option(
        None, "--public-url", help="The address the printed links start with, e.g. "
        "https://rooms.example.org. Env DECISION_MAP_PUBLIC_URL."),
) -> None:
    """Open a live room for the map: members vote from their phones, a projector shows the
    path. Prints the facilitator, projector and join links. --resume opens it where a
    session file left off; --room serves a room of the database again."""
    from decision_map.cli.main import fail, map_arg
    from decision_map.cli.prompting import VoteInputError, parse_group
    from decision_map.errors import DecisionMapError
    from decision_map.io.loader import load_map

    try:
        import sqlalchemy as sa

        from .server import lan_address, open_room, prepare, raise_open_files, run_workers, server
        from .store import StoreError
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None
    from .config import HTTPS, PUBLIC_URL, TRUSTED_PROXIES, ConfigError

    settings = _settings(**{HTTPS: "1" if https else None, TRUSTED_PROXIES: trusted_proxies,
                            PUBLIC_URL: public_url})
    raise_open_files(settings.max_streams)
    if ballot not in ("named", "hidden", "secret"):
        raise fail(f"--ballot: named, hidden or secret, not {ballot!r}", 2)
    from .export import SessionError, read_session, room_payload
    from .limits import LimitError, Limits

    if room is not None and (resume is not None or map_file is not None or group):
        raise fail("--room serves a room that exists: give no MAP, --group or --resume", 2)
    got = None
    if resume is not None:
        if group:
            raise fail("--resume takes the group from the session file: give no --group", 2)
        try:
            got = read_session(resume, map_arg(map_file) if map_file else None)
        except SessionError as e:
            raise fail(str(e)) from None
        dm, names = got.dm, list(got.walk.start_group)
    elif room is None:
        if map_file is None:
            raise fail("give a MAP to serve, --resume SESSION.json or --room ID", 2)
        if not group:
            raise fail('give the members: --group "Ana, Ben, Cy"', 2)
        try:
            names = parse_group(group)
        except VoteInputError as e:
            raise fail(f"--group: {e}", 2) from None
        dm = load_map(map_arg(map_file))
    try:
        limits = Limits.from_env()
    except LimitError as e:
        raise fail(str(e), 2) from None
    try:
        with database_errors():
            url = _database(database)
            if workers > 1 and url.startswith("sqlite"):
                raise StoreError("SQLite serves from one process; more --workers need "
                                 "--database postgresql://...")
            store, secret = prepare(url)
    except ConfigError as e:  # no DECISION_MAP_SECRET for a server on Postgres
        raise fail(str(e), 2) from None
    bind = "0.0.0.0" if lan and host == "127.0.0.1" else host
    srv = server(store, secret, bind, port, limits)
    shown = lan_address() if bind == "0.0.0.0" else host
    base = settings.public_url or f"{'https' if settings.https else 'http'}://{shown}:{port}"
    if room is not None:
        from .server import reopen_room

        try:
            links = reopen_room(store, room, base)
        except DecisionMapError as e:  # its map file changed, or cannot be read
            raise fail(f"--room: {e}", 2) from None
        if links is None:
            raise fail(f"--room: there is no room {room} in that database", 2)
    else:
        extra = room_payload(got, str(resume)) if got is not None else None
        links = open_room(store, dm, names, base, extra, ballot=ballot,
                          open_roster=open_roster)
        if got is not None and got.replay.problem:
            typer.echo(f"Kept the first {got.replay.kept} of {got.replay.total} saved steps "
                       f"(the map has changed: {got.replay.problem}).", err=True)
    typer.echo(f"Facilitator: {links.facilitator}")
    typer.echo(f"Projector: {links.projector}")
    typer.echo(f"Join: {links.join} (code {links.code})")
    shown_url = sa.engine.make_url(url).render_as_string(hide_password=True)
    typer.echo(f"Continue later: decision-map serve --room {links.room} --database {shown_url}")
    if lan:
        import segno

        segno.make(links.join, error="m").terminal(compact=True)
    if workers > 1:
        store.engine.dispose()  # the workers open their own connections
        run_workers(url, bind, port, workers)
        return
    import asyncio

    asyncio.run(_run(srv))


async def _run(srv: LiveServer) -> None:
    """Serve until Ctrl-C; the streams' stop event belongs to this event loop."""
    import asyncio

    srv.live.stopping = asyncio.Event()
    await srv.serve()
