"""``engram`` (no arguments) and ``engram chat [PATH]``: open the terminal app in a repository."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tui.commands.common import checked_policy, fail, open_project, with_model

_NOT_A_TERMINAL = ("the Engram app needs an interactive terminal; run `engram run \"TASK\"` "
                   "in scripts, or `engram --help` for every command")


def register(app: typer.Typer) -> None:
    """Add ``engram chat``."""
    app.command("chat")(chat_command)


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def chat_command(
    path: Path = typer.Argument(Path("."), help="The repository (default: the current folder)."),
    model: str | None = typer.Option(None, "--model", "-m",
                                     help="Model for this run: provider:model, replay:FILE, a .gguf file."),
    policy: str | None = typer.Option(None, "--policy",
                                      help="Approval policy: suggest, auto-edit or full-auto."),
) -> None:
    """Open the Engram app in a repository: conversation, plan, diffs, tests, memory."""
    open_app(path, model, policy)


def open_app(path: Path | str = ".", model: str | None = None, policy: str | None = None) -> None:
    """Resolve the project and settings, then run the app until the user quits."""
    from tui.app.model_setup import needs_setup

    project = open_project(path)
    settings = with_model(project.settings, model)
    policy = checked_policy(policy or None)
    if not is_interactive():
        fail(_NOT_A_TERMINAL)
    from tui.app import EngramApp

    setup = model is None and needs_setup(settings.model)
    EngramApp(project.root, settings, policy=policy, setup=setup).run()
