"""Approval dialogs: an edit set with its diff, a command with its sandbox, a memory write."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.diffs import parse_diff
from tui.app.widgets.diff_view import DiffView

_TITLES = {"edit": "Apply these edits?", "command": "Run this command?", "memory": "Remember this?"}


class ApprovalScreen(ModalScreen[bool]):
    """``y`` approves, ``n`` or Escape rejects; the answer goes back to the waiting task."""

    BINDINGS = [
        Binding("y", "answer(True)", "Approve"),
        Binding("n", "answer(False)", "Reject"),
        Binding("escape", "answer(False)", "Reject", show=False),
    ]

    def __init__(self, kind: str, summary: str, detail: str, sandbox: str = "") -> None:
        super().__init__(classes=f"approval-{kind}")
        self.kind = kind
        self.summary = summary
        self.detail = detail
        self.sandbox = sandbox

    def compose(self) -> ComposeResult:
        with Vertical(id="approval-dialog"):
            yield Static(Text(_TITLES.get(self.kind, "Approve?"), style="bold"), id="approval-title")
            yield Static(self.summary, id="approval-summary")
            if self.kind == "edit":
                yield DiffView(id="approval-diff")
            else:
                body = Text(self.detail or self.summary, style="bold")
                if self.kind == "command":
                    body = Text.assemble(("$ ", "dim"), (self.detail or self.summary, "bold"),
                                         ("\n\nruns in the sandbox: ", "dim"), (self.sandbox or "default", "bold"),
                                         (" · network off · writes only inside the project", "dim"))
                yield Static(body, id="approval-detail")
            with Horizontal(classes="button-row"):
                yield Button("Approve (y)", id="approve", variant="success", compact=True)
                yield Button("Reject (n)", id="reject", variant="error", compact=True)

    def on_mount(self) -> None:
        if self.kind == "edit":
            view = self.query_one("#approval-diff", DiffView)
            view.show(parse_diff(self.detail))
            view.focus()
        else:
            self.query_one("#approve", Button).focus()

    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#reject")
    def _reject(self) -> None:
        self.dismiss(False)

    def action_answer(self, approved: bool) -> None:
        self.dismiss(approved)
