"""``engram run``: the agent, headless or at a terminal, streaming its events.

Exit codes: 0 when the task finished with green tests (or no tests exist and the edits
applied); 1 when it failed, stopped at a budget or broke; 2 when it paused for an approval
(continue with ``engram run --resume ID``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.syntax import Syntax

from tui.commands.common import (
    checked_policy,
    console,
    err_console,
    fail,
    open_project,
    warn,
    with_model,
)

EXIT_PAUSED = 2


def _is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class EventPrinter:
    """Renders events for people (rich) or as JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._streaming = False
        self._testing: tuple[str, str] | None = None

    def show(self, event: Any) -> None:
        if self.as_json:
            sys.stdout.write(event.model_dump_json() + "\n")
            sys.stdout.flush()
            return
        kind = event.type
        if kind == "message_delta":
            console.print(event.text, end="", markup=False, highlight=False)
            self._streaming = True
            return
        if self._streaming:
            console.print()
            self._streaming = False
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event)

    def _on_session_started(self, e: Any) -> None:
        what = "resuming" if e.resumed else "session"
        console.print(f"[bold]{what} {e.session_id}[/] · {escape(e.model)} · policy {e.policy}")

    def _on_context_ready(self, e: Any) -> None:
        pinned = f", pinned: {escape(', '.join(e.pinned))}" if e.pinned else ""
        console.print(f"[dim]context: {e.mode}, {e.context_tokens:,} tokens, {len(e.files)} files "
                      f"in full, {e.memories} memories, {e.conventions} conventions{pinned}[/]")

    def _on_plan(self, e: Any) -> None:
        console.print("[bold]plan[/]")
        for i, step in enumerate(e.steps or [e.text], 1):
            console.print(f"  {i}. {escape(step)}")

    def _on_tool_call(self, e: Any) -> None:
        args = ", ".join(f"{k}={v!r}" for k, v in e.args.items())
        console.print(f"[cyan]→ {e.name}[/]({escape(args[:120])})")

    def _on_tool_result(self, e: Any) -> None:
        if not e.ok:
            console.print(f"[yellow]  {escape(e.output.splitlines()[0] if e.output else 'failed')}[/]")

    def _on_edit_set(self, e: Any) -> None:
        console.print(f"[bold]edits[/] {escape(e.description)}")
        for f in e.files:
            console.print(Syntax(f.diff, "diff", theme="ansi_dark", word_wrap=True))
        for note in e.notes:
            console.print(f"[dim]note: {escape(note.splitlines()[0])}[/]")

    def _on_edit_applied(self, e: Any) -> None:
        console.print(f"[green]applied[/] {', '.join(e.files)} [dim](undo point {e.undo_point})[/]")

    def _on_edit_failed(self, e: Any) -> None:
        state = "rolled back" if e.rolled_back else "not applied"
        console.print(f"[yellow]edits {state}:[/] {escape(e.reason)}")

    def _on_approval_given(self, e: Any) -> None:
        verdict = "[green]approved[/]" if e.approved else "[red]declined[/]"
        console.print(f"{verdict} {e.kind} [dim]({e.by}{', ' + escape(e.note) if e.note else ''})[/]")

    def _on_test_output(self, e: Any) -> None:
        # live test lines are for front ends with a panel; here one quiet line per run
        key = (e.command, e.scope)
        if key != self._testing:
            self._testing = key
            console.print(f"[dim]running tests ({e.scope}): {escape(e.command)}[/]")

    def _on_test_run(self, e: Any) -> None:
        self._testing = None
        colour = "green" if e.ok else "red"
        console.print(f"[{colour}]tests ({e.scope}): {escape(e.headline)}[/]")
        if not e.ok:
            console.print(escape(e.excerpt[:1200]), highlight=False)

    def _on_command_run(self, e: Any) -> None:
        console.print(f"[cyan]$ {escape(e.command)}[/] [dim]{escape(e.summary)}[/]")

    def _on_usage(self, e: Any) -> None:
        console.print(f"[dim]tokens {e.total_input_tokens:,} in / {e.total_output_tokens:,} out"
                      f" · ${e.total_cost_usd:.4f}[/]")

    def _on_notice(self, e: Any) -> None:
        style = "yellow" if e.level == "warning" else "dim"
        console.print(f"[{style}]{escape(e.text)}[/]")

    def _on_finished(self, e: Any) -> None:
        colour = {"success": "green", "paused": "yellow"}.get(e.status, "red")
        console.print(f"[bold {colour}]{e.status}[/]: {escape(e.reason)}")
        if e.undo_points:
            console.print(f"[dim]undo everything: engram undo {e.undo_points[0]}[/]")


def _ask(printer: EventPrinter, event: Any) -> tuple[bool, str]:
    """Ask the person at the terminal about an approval request."""
    if event.detail and event.kind == "edit":
        console.print(Syntax(event.detail, "diff", theme="ansi_dark", word_wrap=True))
    elif event.detail:
        console.print(escape(event.detail))
    approved = typer.confirm(f"Allow: {event.summary}?", default=False)
    note = "" if approved else typer.prompt("Why not (optional)", default="", show_default=False)
    return approved, note


async def _drive(session: Any, task: str | None, resume: str | None, printer: EventPrinter,
                 interactive: bool, *, pinned: list[str]) -> Any:
    stream = session.resume(resume) if resume else session.run(task or "", pinned=pinned)
    final = None
    async for event in stream:
        printer.show(event)
        if event.type == "approval_requested" and interactive:
            approved, note = _ask(printer, event)
            session.answer_approval(event.request_id, approved, note)
        if event.type == "finished":
            final = event
    return final


def run_command(
    task: str = typer.Argument(None, help="What to change, in words."),
    model: str = typer.Option(None, "--model", "-m", help="provider:model, a catalogued name, or replay:FILE."),
    policy: str = typer.Option(None, "--policy", "-p",
                               help="suggest (ask before edits and commands), auto-edit, or full-auto. "
                                    "Required for a new headless task; with --resume it replaces "
                                    "the policy the session started with (default: keep it)."),
    as_json: bool = typer.Option(False, "--json", help="Stream events as JSON lines."),
    resume: str = typer.Option(None, "--resume", help="Continue the session with this ID."),
    branch: str = typer.Option(None, "--branch", help="Work on this git branch (created if missing)."),
    commit: bool = typer.Option(False, "--commit", help="Commit the changed files when the task succeeds."),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="Model calls the task may make."),
    path: Path = typer.Option(Path("."), "-C", help="Run in this folder instead of the current one."),
    pin: list[str] = typer.Option(None, "--pin", help="Show this file to the model in full in every "
                                  "prompt (repeatable); not with --resume, which keeps the session's pins."),
) -> None:
    """Run the agent on TASK: plan, edit, test in the sandbox, repair until green."""
    from agent.policy import POLICIES
    from agent.session import Session, SessionError
    from runtime.llm import LLMError

    if not task and not resume:
        fail('give a task (engram run "fix the failing test") or --resume ID')
    if task and resume:
        fail("give either a task or --resume ID, not both")
    if pin and resume:
        fail("--pin applies to a new task; a resumed session keeps the files it pinned")
    interactive = _is_tty() and not as_json
    if policy is None and not interactive and not resume:  # a resumed session keeps its policy
        fail(f"headless runs (no terminal, or --json) need an explicit --policy: "
             f"{', '.join(POLICIES)}")
    policy = checked_policy(policy)
    project = open_project(path)
    settings = with_model(project.settings, model)
    session = None
    try:
        session = Session(project.root, settings, policy=policy, branch=branch, commit=commit,
                          max_steps=max_steps, wait_for_approval=interactive)
        final = asyncio.run(_drive(session, task, resume, EventPrinter(as_json), interactive,
                                   pinned=pin or []))
    except (SessionError, LLMError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sid = getattr(session, "session_id", None)
        err_console.print(f"interrupted; continue with: engram run --resume {sid}" if sid else "interrupted")
        raise typer.Exit(130) from None
    if final is None:
        warn("the run ended without a final status")
        raise typer.Exit(1)
    if final.status == "paused":
        raise typer.Exit(EXIT_PAUSED)
    raise typer.Exit(0 if final.status == "success" else 1)


def register(app: typer.Typer) -> None:
    """Add ``engram run`` to ``app``."""
    app.command("run")(run_command)
