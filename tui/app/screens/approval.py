"""Approval dialogs: an edit set hunk by hunk, a command with its sandbox, a memory write."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.diffs import FilePatch, parse_diff
from tui.app.edit_review import HunkSelection
from tui.app.widgets.diff_view import DiffView

_TITLES = {"edit": "Apply these edits?", "command": "Run this command?", "memory": "Remember this?"}
_EDIT_KEYS = "space hunk on/off · f whole file · j/k move · y apply · n reject"


@dataclass(frozen=True)
class ApprovalAnswer:
    """What the user decided; ``rejected_hunks``: path -> hunks of an edit set left out."""

    approved: bool
    rejected_hunks: dict[str, list[int]] = field(default_factory=dict)


class ApprovalScreen(ModalScreen[ApprovalAnswer]):
    """``y`` approves, ``n`` or Escape rejects; the answer goes back to the waiting task.

    For an edit set every hunk is listed and can be left out (space, or a click on it; ``f``
    for the whole file) before approving; leaving everything out is a rejection.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Approve"),
        Binding("n", "answer(False)", "Reject"),
        Binding("escape", "answer(False)", "Reject", show=False),
        Binding("space", "toggle_hunk", "Hunk on/off", show=False),
        Binding("f", "toggle_file", "File on/off", show=False),
        Binding("j,down", "move(1)", "Next hunk", show=False, priority=True),
        Binding("k,up", "move(-1)", "Previous hunk", show=False, priority=True),
    ]

    def __init__(self, kind: str, summary: str, detail: str, sandbox: str = "",
                 patches: list[FilePatch] | None = None) -> None:
        super().__init__(classes=f"approval-{kind}")
        self.kind = kind
        self.summary = summary
        self.detail = detail
        self.sandbox = sandbox
        # Without the proposal's own files (an older agent), the combined diff still splits
        # into the same hunks per file.
        self.selection = HunkSelection(patches if patches is not None else parse_diff(detail)) \
            if kind == "edit" else None
        self.cursor = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="approval-dialog"):
            yield Static(Text(_TITLES.get(self.kind, "Approve?"), style="bold"), id="approval-title")
            yield Static(self.summary, id="approval-summary")
            if self.kind == "edit":
                yield DiffView(id="approval-diff")
                yield Static(Text(_EDIT_KEYS, style="dim"), id="approval-keys")
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
        if self.selection is not None:
            self._refresh_edit()
            self.query_one("#approval-diff", DiffView).focus()
        else:
            self.query_one("#approve", Button).focus()

    # -- the edit set's hunks ------------------------------------------------------------------
    @property
    def current(self) -> tuple[int, int | None] | None:
        positions = self.selection.positions() if self.selection else []
        return positions[min(self.cursor, len(positions) - 1)] if positions else None

    def _refresh_edit(self) -> None:
        selection = self.selection
        assert selection is not None
        self.query_one("#approval-diff", DiffView).show(selection.patches, selection.states(),
                                                         self.current)
        kept, total = selection.kept, selection.total
        label = ("Approve (y)" if kept == total else
                 "Nothing kept: reject (y)" if kept == 0 else f"Apply {kept} of {total} hunks (y)")
        button = self.query_one("#approve", Button)
        if str(button.label) != label:
            button.label = label
            button.refresh(layout=True)  # its width follows the label

    def action_move(self, step: int) -> None:
        if self.selection is None:
            return
        count = len(self.selection.positions())
        self.cursor = max(0, min(count - 1, self.cursor + step))
        self._refresh_edit()

    def action_toggle_hunk(self) -> None:
        where = self.current
        if where is None:
            return
        f, h = where
        if h is None:  # a file without hunks (an empty new file) is all or nothing
            self.selection.toggle_file(f)  # type: ignore[union-attr]
        else:
            self.selection.toggle_hunk(f, h)  # type: ignore[union-attr]
        self._refresh_edit()

    def action_toggle_file(self) -> None:
        where = self.current
        if where is not None:
            self.selection.toggle_file(where[0])  # type: ignore[union-attr]
            self._refresh_edit()

    @on(DiffView.Clicked, "#approval-diff")
    def _clicked(self, event: DiffView.Clicked) -> None:
        """A click on a hunk toggles it; on a file's name, the whole file."""
        assert self.selection is not None
        positions = self.selection.positions()
        target = (event.file, event.hunk)
        if event.hunk is None:
            self.cursor = next((i for i, (f, _) in enumerate(positions) if f == event.file), self.cursor)
            self.action_toggle_file()
        elif target in positions:
            self.cursor = positions.index(target)
            self.action_toggle_hunk()

    # -- answering -------------------------------------------------------------------------
    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        self.action_answer(True)

    @on(Button.Pressed, "#reject")
    def _reject(self) -> None:
        self.action_answer(False)

    def action_answer(self, approved: bool) -> None:
        selection = self.selection
        if not approved or selection is None:
            self.dismiss(ApprovalAnswer(approved))
        elif selection.total and selection.kept == 0:
            self.dismiss(ApprovalAnswer(False))  # everything left out is a rejection
        else:
            self.dismiss(ApprovalAnswer(True, selection.rejected_hunks()))
