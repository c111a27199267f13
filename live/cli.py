"""`decision-map serve`: the live room's command, added to the command line through the
`decision_map.commands` entry point so the core never imports this package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from .server import LiveServer


def register(app: typer.Typer) -> None:
    """Add `serve` to the command line."""
    app.command("serve")(serve)


def serve(
    map_file: Optional[Path] = typer.Argument(
        None, metavar="MAP", help="The map (a file or a shipped name); not with --room."),
    group: Optional[str] = typer.Option(None, "--group", help='The members: "Ana, Ben, Cy".'),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="The port to listen on."),
    database: Optional[str] = typer.Option(
        None, "--database", help="sqlite:///PATH (default: a file in your data folder)."),
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
) -> None:
    """Open a live room for the map: members vote from their phones, a projector shows the
    path. Prints the facilitator, projector and join links. --resume opens it where a
    session file left off; --room serves a room of the database again."""
    import platformdirs

    from decision_map.cli.main import fail, map_arg
    from decision_map.cli.prompting import VoteInputError, parse_group
    from decision_map.io.loader import load_map

    try:
        from .server import lan_address, open_room, prepare, server
        from .store import StoreError, database_url
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
        url = database_url(database, Path(platformdirs.user_data_dir("decision-map")) / "live")
        store, secret = prepare(url)
    except StoreError as e:
        raise fail(f"--database: {e}", 2) from None
    bind = "0.0.0.0" if lan and host == "127.0.0.1" else host
    srv = server(store, secret, bind, port, limits)
    shown = lan_address() if bind == "0.0.0.0" else host
    base = f"http://{shown}:{port}"
    if room is not None:
        from .server import reopen_room

        links = reopen_room(store, room, base)
        if links is None:
            raise fail(f"--room: there is no room {room} in {url}", 2)
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
    typer.echo(f"Continue later: decision-map serve --room {links.room} --database {url}")
    if lan:
        import segno

        segno.make(links.join, error="m").terminal(compact=True)
    import asyncio

    asyncio.run(_run(srv))


async def _run(srv: LiveServer) -> None:
    """Serve until Ctrl-C; the streams' stop event belongs to this event loop."""
    import asyncio

    srv.live.stopping = asyncio.Event()
    await srv.serve()
