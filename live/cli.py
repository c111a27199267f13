"""`decision-map serve`: the live room's command, added to the command line through the
`decision_map.commands` entry point so the core never imports this package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from .server import LiveServer


MAX_WORKERS = 64  # the most worker processes `serve --workers` starts


def register(app: typer.Typer) -> None:
    """Add `serve` and `db upgrade` to the command line."""
    app.command("serve")(serve)
    db = typer.Typer(help="The live room's database.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")


def _database(database: Optional[str]) -> str:
    """The database URL the user meant (default: the laptop's SQLite file)."""
    import platformdirs

    from .store import database_url

    return database_url(database, Path(platformdirs.user_data_dir("decision-map")) / "live")


def db_upgrade(
    database: Optional[str] = typer.Option(
        None, "--database", help="sqlite:///PATH or postgresql://USER@HOST/NAME "
        "(default: the SQLite file in your data folder)."),
) -> None:
    """Apply the live room's schema migrations to its database.

    Run it before `serve` on Postgres, and after installing a new decision-map."""
    from decision_map.cli.main import fail

    try:
        from .store import StoreError, schema_problem, upgrade
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None
    import sqlalchemy as sa

    try:
        url = _database(database)
        before = schema_problem(url)
        upgrade(url)
    except StoreError as e:
        raise fail(f"--database: {e}", 2) from None
    except sa.exc.OperationalError as e:
        raise fail(f"--database: cannot connect: {str(e.orig).strip().splitlines()[0]}",
                   2) from None
    except ModuleNotFoundError as e:  # the database's driver (psycopg for Postgres)
        raise fail(f"--database: its driver is missing ({e.name}): "
                   "pip install 'decision-map[live]'", 2) from None
    typer.echo("the database's schema is up to date" if before is None
               else "the database's schema is upgraded to the newest migration")


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
) -> None:
    """Open a live room for the map: members vote from their phones, a projector shows the
    path. Prints the facilitator, projector and join links. --resume opens it where a
    session file left off; --room serves a room of the database again."""
    from decision_map.cli.main import fail, map_arg
    from decision_map.cli.prompting import VoteInputError, parse_group
    from decision_map.io.loader import load_map

    try:
        import sqlalchemy as sa

        from .server import lan_address, open_room, prepare, run_workers, server
        from .store import StoreError
    except ModuleNotFoundError as e:
        raise fail(f"the live room needs its extra ({e.name} is missing): "
                   "pip install 'decision-map[live]'") from None
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
        url = _database(database)
        if workers > 1 and url.startswith("sqlite"):
            raise StoreError("SQLite serves from one process; more --workers need "
                             "--database postgresql://...")
        store, secret = prepare(url)
    except StoreError as e:
        raise fail(f"--database: {e}", 2) from None
    except sa.exc.OperationalError as e:
        raise fail(f"--database: cannot connect: {str(e.orig).strip().splitlines()[0]}",
                   2) from None
    except ModuleNotFoundError as e:  # the database's driver (psycopg for Postgres)
        raise fail(f"--database: its driver is missing ({e.name}): "
                   "pip install 'decision-map[live]'", 2) from None
    bind = "0.0.0.0" if lan and host == "127.0.0.1" else host
    srv = server(store, secret, bind, port, limits)
    shown = lan_address() if bind == "0.0.0.0" else host
    base = f"http://{shown}:{port}"
    if room is not None:
        from .server import reopen_room

        links = reopen_room(store, room, base)
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
