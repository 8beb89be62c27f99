"""``engram exec`` and ``engram test``: run a command, or the project's tests, in the
project's sandbox."""

from __future__ import annotations

import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from runtime.sandbox import (
    NoTestCommand,
    RunResult,
    Sandbox,
    SandboxError,
    SandboxSettings,
    TestRunner,
)
from tui.commands.common import err_console, fail, open_project, print_json, warn

EXIT_TIMEOUT = 124
EXIT_KILLED = 137


class BackendChoice(str, Enum):
    auto = "auto"
    bwrap = "bwrap"
    docker = "docker"
    local = "local"


def _settings(base: SandboxSettings, backend: BackendChoice | None,
              network: bool) -> SandboxSettings:
    update: dict[str, object] = {}
    if backend is not None:
        update["backend"] = backend.value
    if network:
        update["network"] = True
    return base.model_copy(update=update)


def _stream(stream: str, line: str) -> None:
    target = sys.stdout if stream == "stdout" else sys.stderr
    target.write(line + "\n")
    target.flush()


def _exit_code(result: RunResult) -> int:
    """The command's own code; 124 on timeout; 137 when a limit killed it."""
    if result.timed_out:
        return EXIT_TIMEOUT
    if result.killed_by in ("memory", "output", "processes"):
        return EXIT_KILLED
    return result.exit_code


def _open_sandbox(backend: BackendChoice | None, network: bool) -> tuple[Sandbox, Path]:
    project = open_project(".")
    settings = _settings(project.settings.sandbox, backend, network)
    # the library logs its warnings; here they are printed once, as "warning: ..."
    logging.getLogger("runtime.sandbox").addHandler(logging.NullHandler())
    return Sandbox.from_settings(settings, project.root), project.root


def _probe(sandbox: Sandbox) -> None:
    try:
        sandbox.backend  # noqa: B018 - the probe raises with what to do
    except SandboxError as exc:
        fail(escape(str(exc)))
    if sandbox.warning:
        warn(escape(sandbox.warning))


def register(app: typer.Typer) -> None:
    """Add ``exec`` and ``test`` to ``app``."""

    @app.command("exec", context_settings={"ignore_unknown_options": True,
                                           "allow_interspersed_args": False})
    def exec_command(
        cmd: list[str] = typer.Argument(..., metavar="-- CMD...",
                                        help="The command and its arguments."),
        timeout: Optional[float] = typer.Option(None, "--timeout", min=0.001,
                                                help="Wall-clock limit in seconds."),
        network: bool = typer.Option(False, "--network", help="Allow network access."),
        backend: Optional[BackendChoice] = typer.Option(
            None, "--backend", help="Sandbox backend (default: the settings')."),
        shell: bool = typer.Option(False, "--shell", help="Run CMD as one /bin/sh command line."),
        json_out: bool = typer.Option(False, "--json", help="Print the run's result as JSON."),
    ) -> None:
        """Run a command in the project's sandbox.

        Exits with the command's code, 124 on timeout, 137 when a limit killed it.
        """
        sandbox, _root = _open_sandbox(backend, network)
        _probe(sandbox)
        command: list[str] | str = " ".join(cmd) if shell else cmd
        try:
            result = sandbox.run(command, cwd=Path.cwd(), timeout=timeout, shell=shell,
                                 on_output=None if json_out else _stream)
        except SandboxError as exc:
            fail(escape(str(exc)))
        if json_out:
            print_json(result.to_dict())
        if result.killed_by is not None or result.reason:
            err_console.print(f"engram exec: {result.summary()}", highlight=False,
                              soft_wrap=True, markup=False)
        raise typer.Exit(_exit_code(result))

    @app.command("test")
    def test_command(
        ids: Optional[list[str]] = typer.Argument(None, help="Test ids or files (default: all)."),
        timeout: Optional[float] = typer.Option(None, "--timeout", min=0.001,
                                                help="Wall-clock limit in seconds."),
        backend: Optional[BackendChoice] = typer.Option(None, "--backend", help="Sandbox backend."),
        max_chars: int = typer.Option(4000, "--max-chars", min=200, help="Size of the summary."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary."),
        json_out: bool = typer.Option(False, "--json", help="Print the parsed report as JSON."),
    ) -> None:
        """Run the project's tests in the sandbox and summarise failures.

        The command is detected from project files, or set as `test_command` under
        `[sandbox]`. Exits 0 when all passed, 1 otherwise.
        """
        sandbox, root = _open_sandbox(backend, False)
        runner = TestRunner(sandbox, root)
        try:
            test_cmd = runner.detect()
        except NoTestCommand as exc:
            fail(escape(str(exc)))
        _probe(sandbox)
        if not json_out:
            err_console.print(f"running: {test_cmd.describe()}", highlight=False, markup=False,
                              soft_wrap=True)
        try:
            report = runner.run(ids or [], timeout=timeout,
                                on_output=None if (json_out or quiet) else _stream)
        except SandboxError as exc:
            fail(escape(str(exc)))
        if json_out:
            print_json(report.to_dict())
        else:
            typer.echo(("" if quiet else "\n") + report.for_model(max_chars))
        if report.run.killed_by is not None:
            raise typer.Exit(_exit_code(report.run))
        raise typer.Exit(0 if report.ok else 1)
