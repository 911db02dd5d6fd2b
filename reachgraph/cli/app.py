"""The typer application object; command modules register themselves on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="reachgraph",
    help="Network reachability for AWS: can this talk to that, and if not, which rule blocks it and what to change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from reachgraph import __version__

        typer.echo(f"reachgraph {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_version,
                                 is_eager=True),
) -> None:
    """Network reachability for AWS: can this talk to that, and if not, which rule blocks it and what to change."""
