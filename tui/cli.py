"""The ``engram`` command line: the one composition root that wires packages together.

Each group of commands lives in ``tui/commands/<group>.py`` and exposes ``register(app)``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import typer

from tui.commands import (
    agent_cmds,
    app_cmd,
    engine_cmds,
    eval_cmds,
    exec_cmd,
    index_cmds,
    memory_cmds,
    model_cmds,
    server_cmds,
    undo_cmds,
)
from tui.commands.common import UserError, err_console

app = typer.Typer(
    name="engram",
    help="Engram: a coding agent that understands your whole repository.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version() -> str:
    try:
        return version("engram-code")
    except PackageNotFoundError:
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"engram {_version()}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    show_version: bool = typer.Option(
        False, "--version", "-V", help="Print the version and exit.",
        callback=_print_version, is_eager=True,
    ),
) -> None:
    """Engram: a coding agent that understands your whole repository.

    Run `engram` with no arguments inside a repository to open the app."""
    if ctx.invoked_subcommand is None:
        if not app_cmd.is_interactive():  # scripts and pipes get the help, as before
            typer.echo(ctx.get_help())
            raise typer.Exit()
        app_cmd.open_app(".")


for _group in (
    app_cmd, agent_cmds, undo_cmds, index_cmds, exec_cmd, memory_cmds,
    model_cmds, engine_cmds, server_cmds, eval_cmds,
):
    _group.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    try:
        app(args=argv, prog_name="engram")
    except SystemExit as exc:  # click's standalone mode ends every command this way
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
