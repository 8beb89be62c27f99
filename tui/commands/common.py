"""What every command shares: the console, one-line errors, and the project it runs in."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from agent.config import ConfigError, EngramSettings, load_settings
from indexer.workspace import WorkspaceError, find_project_root

# Human output goes to stdout, diagnostics to stderr, so `--json` output stays parseable.
console = Console()
err_console = Console(stderr=True)


class UserError(Exception):
    """An error whose message is all the user needs; printed as one line, exit code 1."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write one JSON document to stdout (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


@dataclass(frozen=True)
class Project:
    """The folder a command works on and the settings that apply there."""

    root: Path
    settings: EngramSettings


def open_project(path: Path | str = ".") -> Project:
    """Resolve ``path`` to its project root and load settings; one-line errors on failure."""
    try:
        root = find_project_root(path)
        return Project(root=root, settings=load_settings(root))
    except (WorkspaceError, ConfigError) as exc:
        fail(str(exc))


def with_model(settings: EngramSettings, model: str | None) -> EngramSettings:
    """``settings`` with a ``--model`` reference applied (unchanged when ``model`` is empty)."""
    if not model:
        return settings
    from runtime.llm import parse_model_ref

    try:
        return settings.model_copy(update={"model": parse_model_ref(model, settings.model)})
    except ValueError as exc:
        fail(str(exc))


def checked_policy(policy: str | None) -> str | None:
    """A ``--policy`` value checked against the known policies (None stays None)."""
    if policy is None:
        return None
    from agent.policy import PolicyError, check_policy

    try:
        return check_policy(policy)
    except PolicyError as exc:
        fail(str(exc))
