"""Turning the agent's event stream into widget updates: one method per event type.

The adapter knows the widgets through ``Surface`` only, so tests can drive it with scripted
events, and every front-end decision about an event lives in this one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.text import Text

from tui.app.diffs import FilePatch
from tui.app.edit_review import file_patches
from tui.app.plan_progress import PlanProgress
from tui.app.widgets.changes_panel import ChangesPanel
from tui.app.widgets.conversation import Conversation
from tui.app.widgets.files_panel import FilesPanel
from tui.app.widgets.plan_panel import PlanPanel
from tui.app.widgets.status_bar import StatusBar
from tui.app.widgets.tests_panel import TestsPanel

_FINISH_STYLE = {"success": "bold green", "failed": "bold red", "error": "bold red",
                 "paused": "bold yellow", "stopped": "bold magenta", "rejected": "bold magenta"}


class Surface(Protocol):
    """What the adapter updates, and what it asks the app to do."""

    @property
    def conversation(self) -> Conversation: ...
    @property
    def plan_panel(self) -> PlanPanel: ...
    @property
    def changes_panel(self) -> ChangesPanel: ...
    @property
    def tests_panel(self) -> TestsPanel: ...
    @property
    def files_panel(self) -> FilesPanel: ...
    @property
    def status_bar(self) -> StatusBar: ...

    def ask_approval(self, event: Any, patches: list[FilePatch] | None) -> None: ...
    def context_pinned(self, paths: list[str]) -> None: ...
    def recall_memory(self, task: str) -> None: ...
    def task_finished(self, event: Any) -> None: ...


def _one_line(text: str, limit: int = 100) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _args(args: dict[str, Any]) -> str:
    return _one_line(", ".join(f"{k}={v!r}" for k, v in args.items()), 80)


@dataclass
class EventAdapter:
    """Feed it every event of a task, in order (``handle``)."""

    surface: Surface
    progress: PlanProgress = field(default_factory=PlanProgress)
    proposed: dict[str, list[FilePatch]] = field(default_factory=dict)
    """Edit sets not applied yet, by id; hunk i of a file is ``split_hunks``' hunk i."""
    asked: dict[str, str] = field(default_factory=dict)
    """Edit-set approvals waiting for an answer: request id -> edit set id."""
    left_out: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """Hunks the user kept out of an approved edit set, until it is applied."""
    streamed: bool = False
    """The current step's answer arrived as deltas (so its whole text is not shown again)."""

    def handle(self, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind not in ("message_delta", "usage", "assistant_message"):
            # The answer being streamed is complete once anything else happens.
            self.surface.conversation.end_stream()
        method = getattr(self, f"_on_{kind}", None)
        if method is not None:
            method(event)

    # -- conversation ------------------------------------------------------------------------
    def _say(self, text: str | Text, style: str = "") -> None:
        self.surface.conversation.add_text(text, style)

    def _on_session_started(self, e: Any) -> None:
        verb = "resumed" if e.resumed else "started"
        self._say(Text.assemble(("● ", "bold cyan"), (f"session {e.session_id} {verb}", "bold"),
                                (f" · {e.model} · {e.policy}", "dim")))
        self.surface.status_bar.set(model=e.model, policy=e.policy, activity="working…")
        self.progress = PlanProgress()
        self.surface.plan_panel.show(self.progress)
        if e.task:
            self.surface.recall_memory(e.task)

    def _on_context_ready(self, e: Any) -> None:
        self._say(f"  context: {e.mode}, {len(e.files)} files in full, {e.context_tokens:,} of "
                  f"{e.window:,} tokens, {e.memories} memories, {e.conventions} conventions", "dim")
        self.surface.status_bar.set(window=e.window, context_tokens=e.context_tokens)
        if e.pinned:
            self._say(f"  pinned: {', '.join(e.pinned)}", "dim")
        self.surface.context_pinned(list(e.pinned))

    def _on_message_delta(self, e: Any) -> None:
        self.streamed = True
        self.surface.conversation.stream(e.text)

    def _on_assistant_message(self, e: Any) -> None:
        if self.streamed:
            self.surface.conversation.end_stream()
        elif e.text.strip():
            self.surface.conversation.add_markdown(e.text)
        self.streamed = False

    def _on_plan(self, e: Any) -> None:
        self.streamed = False
        self.progress.set_plan(e.steps)
        self.surface.plan_panel.show(self.progress)
        if not self.streamed and not e.steps:
            self.surface.conversation.add_markdown(e.text)

    def _on_tool_call(self, e: Any) -> None:
        self._say(f"  ⚙ {e.name}({_args(e.args)})", "dim")
        if e.name in ("run_tests", "tests"):
            self.surface.tests_panel.running("tests")

    def _on_tool_result(self, e: Any) -> None:
        mark, style = ("✓", "dim green") if e.ok else ("✗", "red")
        first = _one_line(e.output.strip().splitlines()[0] if e.output.strip() else "", 90)
        self._say(f"    {mark} {e.name}: {first}", style)

    # -- edits -----------------------------------------------------------------------------
    def _on_edit_set(self, e: Any) -> None:
        patches = file_patches(e.files)
        self.proposed[e.edit_set_id] = patches
        stat = ", ".join(f"{p.path} +{p.added} -{p.removed}" for p in patches)
        self._say(Text.assemble(("✎ ", "bold yellow"), ("edit set: ", "bold"),
                                _one_line(e.description or "edits", 60), (f"  ({stat})", "dim")))
        for note in e.notes:
            self._say(f"    note: {_one_line(note, 120)}", "dim")

    def _on_edit_applied(self, e: Any) -> None:
        patches = self.proposed.pop(e.edit_set_id, [])
        left_out = self.left_out.pop(e.edit_set_id, {})
        applied = set(e.files)
        # A file whose every hunk was left out is not touched, so it is not listed.
        patches = [p for p in patches if p.path in applied] or [FilePatch(p) for p in e.files]
        changes = self.surface.changes_panel
        changes.add_edit_set(e.edit_set_id, patches, left_out)
        self.surface.files_panel.set_changed(changes.changed_paths)
        self.progress.files_changed(list(e.files))
        self.surface.plan_panel.show(self.progress)
        self._say(Text.assemble(("✔ ", "bold green"), (f"applied to {', '.join(e.files)}", ""),
                                (f"  (undo point {e.undo_point[:10]})", "dim")))
        self.surface.tests_panel.running("tests")

    def _on_edit_failed(self, e: Any) -> None:
        self.proposed.pop(e.edit_set_id, None)
        rolled = " (rolled back)" if e.rolled_back else ""
        self._say(Text.assemble(("✘ ", "bold red"), (f"edit set not applied{rolled}: ", "bold"),
                                _one_line(e.reason, 140)))
        for failure in e.failures[:3]:
            self._say(f"    {_one_line(failure, 140)}", "red")

    # -- approvals, tests, commands -----------------------------------------------------------
    def _on_approval_requested(self, e: Any) -> None:
        self._say(Text.assemble(("? ", "bold yellow"), (f"approval needed ({e.kind}): ", "bold"),
                                _one_line(e.summary, 100)))
        self.surface.status_bar.set(activity="waiting for your approval")
        patches = None
        if e.kind == "edit":
            edit_set_id = e.edit_set_id or next(reversed(self.proposed), "")
            patches = self.proposed.get(edit_set_id)
            self.asked[e.request_id] = edit_set_id
        self.surface.ask_approval(e, patches)

    def _on_approval_given(self, e: Any) -> None:
        who = "you" if e.by == "user" else f"the {e.policy} policy"
        verb, style = ("approved", "green") if e.approved else ("rejected", "red")
        left_out = sum(len(v) for v in e.rejected_hunks.values())
        tail = f" ({left_out} hunk{'s' if left_out != 1 else ''} left out)" if left_out else ""
        self._say(f"  {'✔' if e.approved else '✘'} {e.kind} {verb} by {who}{tail}", style)
        edit_set_id = self.asked.pop(e.request_id, "")
        if e.approved and e.rejected_hunks and edit_set_id:
            self.left_out[edit_set_id] = {k: list(v) for k, v in e.rejected_hunks.items()}
        self.surface.status_bar.set(activity="working…")

    def _on_test_output(self, e: Any) -> None:
        self.surface.tests_panel.output(e.command, e.scope, e.lines)

    def _on_test_run(self, e: Any) -> None:
        self.surface.tests_panel.finished(e.command, e.scope, e.ok, e.passed, list(e.failed),
                                          list(e.errored), e.headline, e.excerpt)
        style = "bold green" if e.ok else "bold red"
        self._say(Text.assemble(("✔ tests green" if e.ok else "✘ tests red", style),
                                f" ({e.scope}): {_one_line(e.headline, 100)}"))
        if e.ok:
            self.progress.tests_passed()
            self.surface.plan_panel.show(self.progress)

    def _on_command_run(self, e: Any) -> None:
        self._say(Text.assemble(("$ ", "dim"), (_one_line(e.command, 80), "bold"),
                                (f" → exit {e.exit_code}: {_one_line(e.summary, 80)}", "dim")))

    def _on_usage(self, e: Any) -> None:
        self.surface.status_bar.set(total_tokens=e.total_input_tokens + e.total_output_tokens,
                                    cost_usd=e.total_cost_usd,
                                    context_tokens=e.prompt_tokens or self.surface.status_bar.info.context_tokens)

    def _on_notice(self, e: Any) -> None:
        if e.level == "warning":
            self._say(Text.assemble(("⚠ ", "bold yellow"), (e.text, "yellow")))
        else:
            self._say(f"  ℹ {e.text}", "dim")

    def _on_finished(self, e: Any) -> None:
        self.surface.conversation.end_stream()
        self.streamed = False
        self.progress.finished(e.status == "success")
        self.surface.plan_panel.show(self.progress)
        style = _FINISH_STYLE.get(e.status, "bold")
        tail = f" · tests {e.tests}" if e.tests != "not_run" else ""
        self._say(Text.assemble((f"■ {e.status}", style), f": {_one_line(e.reason, 160)}",
                                (f"{tail} · {e.steps} steps · {e.total_tokens:,} tokens · ${e.cost_usd:.2f}", "dim")))
        self.surface.tests_panel.stopped()
        if e.tests == "none":
            self.surface.tests_panel.not_run("This project has no tests the agent could run.")
        self.surface.status_bar.set(activity="")
        self.surface.task_finished(e)
