"""`fmt`: rewrite maps in the one canonical layout (decision_map/io/canonical.py), or with
`--check` only say which would change, for CI and the pre-commit hook."""

from __future__ import annotations

from pathlib import Path

import typer

from .main import app
from .output import clean


@app.command("fmt")
def fmt_cmd(
    maps: list[Path] = typer.Argument(..., metavar="MAP...", help="Map files to format."),
    check: bool = typer.Option(False, "--check",
                               help="Change nothing; exit 1 when a file would change."),
) -> None:
    """Rewrite maps in one layout (key order, yes/no quoting, indentation), comments kept;
    the meaning is proven unchanged before anything is written."""
    from ..errors import DecisionMapError
    from ..io.canonical import canonical_text
    from ..io.yaml_source import MAX_BYTES, read_text

    changed = failed = 0
    for path in maps:
        try:
            text = read_text(str(path), MAX_BYTES)
            new = canonical_text(text, str(path))
        except DecisionMapError as e:
            typer.echo(f"decision-map: {clean(e)}", err=True)
            failed += 1
            continue
        if new == text:
            continue
        changed += 1
        if check:
            typer.echo(f"would reformat {clean(path)}")
        else:
            _rewrite(path, new)
            typer.echo(f"reformatted {clean(path)}")
    verb = "would be reformatted" if check else "reformatted"
    typer.echo(f"{len(maps)} map(s): {changed} {verb}, {len(maps) - changed - failed} "
               f"already canonical" + (f", {failed} not formatted (errors above)"
                                       if failed else ""))
    if failed or (check and changed):
        raise typer.Exit(1)


def _rewrite(path: Path, text: str) -> None:
    """Replace the file atomically, as it was: through a symlink to the file it names,
    and with its permissions (a new temporary file would otherwise be private)."""
    import os

    from ..io.atomic import write_atomic

    real = os.path.realpath(path)
    mode = os.stat(real).st_mode & 0o7777
    write_atomic(real, text)
    os.chmod(real, mode)


@app.command("hook-fmt", hidden=True)
def hook_fmt(files: list[Path] = typer.Argument(None, help="Changed YAML files.")) -> None:
    """`fmt --check` on the files among FILES that declare the schema (pre-commit): other
    YAML files are no maps and are left alone."""
    from ..io.schema import declares_schema

    maps = [f for f in files or [] if declares_schema(str(f))]
    if maps:
        fmt_cmd(maps=maps, check=True)
