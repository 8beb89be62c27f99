"""The Changes tab: files the agent changed, their diffs, accept or reject per file and hunk."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from tui.app.diffs import FilePatch
from tui.app.widgets.diff_view import DiffView

_ACTION_MARK = {"create": "A", "modify": "M", "delete": "D"}


@dataclass
class ChangedFile:
    """One file of an applied edit set and what the user decided per hunk."""

    edit_set_id: str
    patch: FilePatch
    states: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.states:
            self.states = ["pending"] * len(self.patch.hunks)

    @property
    def state(self) -> str:
        if self.states and all(s == "rejected" for s in self.states):
            return "rejected"
        if self.states and all(s == "accepted" for s in self.states):
            return "accepted"
        return "pending"


class ChangesPanel(Vertical):
    """Changed files (top), the selected file's diff (below), decisions by key or button."""

    BINDINGS = [
        Binding("a", "accept_file", "Accept file"),
        Binding("r", "reject_file", "Reject file"),
        Binding("y", "accept_hunk", "Accept hunk"),
        Binding("d", "reject_hunk", "Reject hunk"),
        Binding("n", "next_hunk", "Next hunk"),
        Binding("p", "previous_hunk", "Prev hunk"),
    ]

    class RejectRequested(Message):
        """The user rejected a file (``hunk`` None) or one hunk; the app reverts it on disk."""

        def __init__(self, index: int, hunk: int | None) -> None:
            super().__init__()
            self.index = index
            self.hunk = hunk

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.files: list[ChangedFile] = []
        self.selected = 0
        self.hunk = 0

    def compose(self) -> ComposeResult:
        yield Static("No changes yet.", id="changes-summary", classes="panel-note")
        yield OptionList(id="changes-files")
        yield DiffView(id="changes-diff")
        with Horizontal(id="changes-buttons", classes="button-row"):
            yield Button("Accept file", id="accept-file", compact=True)
            yield Button("Reject file", id="reject-file", compact=True, variant="error")
            yield Button("Accept hunk", id="accept-hunk", compact=True)
            yield Button("Reject hunk", id="reject-hunk", compact=True, variant="warning")

    # -- data ---------------------------------------------------------------------------------
    def add_edit_set(self, edit_set_id: str, patches: list[FilePatch],
                     left_out: dict[str, list[int]] | None = None) -> None:
        """An edit set was applied: list its files (``left_out``: hunks the user kept out of
        it when approving, shown as rejected)."""
        left_out = left_out or {}
        for patch in patches:
            skipped = set(left_out.get(patch.path, ()))
            states = ["rejected" if h in skipped else "pending" for h in range(len(patch.hunks))]
            self.files.append(ChangedFile(edit_set_id, patch, states))
        if patches:
            self.selected = len(self.files) - len(patches)
            self.hunk = 0
        self.refresh_view()

    def set_hunk_state(self, index: int, hunk: int | None, state: str) -> None:
        entry = self.files[index]
        targets = range(len(entry.states)) if hunk is None else [hunk]
        for h in targets:
            if entry.states[h] != "rejected":  # a rejected hunk is gone from disk for good
                entry.states[h] = state
        self.refresh_view()

    def mark_all_undone(self, paths: set[str]) -> None:
        """``/undo`` restored these files: their pending hunks are no longer on disk."""
        for entry in self.files:
            if entry.patch.path in paths:
                entry.states = ["rejected" if s == "pending" else s for s in entry.states]
        self.refresh_view()

    def clear(self) -> None:
        self.files, self.selected, self.hunk = [], 0, 0
        self.refresh_view()

    @property
    def changed_paths(self) -> set[str]:
        return {f.patch.path for f in self.files if f.state != "rejected"}

    # -- view -----------------------------------------------------------------------------
    def refresh_view(self) -> None:
        if not self.is_mounted:
            return
        options = self.query_one("#changes-files", OptionList)
        options.clear_options()
        for entry in self.files:
            mark = {"accepted": ("✓", "green"), "rejected": ("✗", "red")}.get(entry.state, ("•", "yellow"))
            label = Text.assemble((mark[0] + " ", mark[1]), (_ACTION_MARK.get(entry.patch.action, "M") + " ", "bold"),
                                  entry.patch.path, (f"  +{entry.patch.added}", "green"),
                                  (f" -{entry.patch.removed}", "red"))
            options.add_option(Option(label))
        summary = self.query_one("#changes-summary", Static)
        if not self.files:
            summary.update("No changes yet.")
            self.query_one(DiffView).show([])
            return
        total_add = sum(f.patch.added for f in self.files if f.state != "rejected")
        total_del = sum(f.patch.removed for f in self.files if f.state != "rejected")
        summary.update(f"{len(self.changed_paths)} file(s) changed, +{total_add} -{total_del}   "
                       "a/r file · y/d hunk · n/p move")
        self.selected = min(self.selected, len(self.files) - 1)
        options.highlighted = self.selected
        entry = self.files[self.selected]
        self.hunk = min(self.hunk, max(0, len(entry.patch.hunks) - 1))
        self.query_one(DiffView).show([entry.patch], [entry.states], (0, self.hunk))

    @on(OptionList.OptionHighlighted, "#changes-files")
    def _file_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.selected:
            self.selected, self.hunk = event.option_index, 0
            entry = self.files[self.selected]
            self.query_one(DiffView).show([entry.patch], [entry.states], (0, 0))

    @on(DiffView.Clicked, "#changes-diff")
    def _hunk_clicked(self, event: DiffView.Clicked) -> None:
        if self.files and event.hunk is not None:
            self.hunk = event.hunk
            self.refresh_view()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"accept-file": self.action_accept_file, "reject-file": self.action_reject_file,
                   "accept-hunk": self.action_accept_hunk, "reject-hunk": self.action_reject_hunk}
        if event.button.id in actions:
            event.stop()
            actions[event.button.id]()

    # -- actions -------------------------------------------------------------------------
    def action_accept_file(self) -> None:
        if self.files:
            self.set_hunk_state(self.selected, None, "accepted")

    def action_reject_file(self) -> None:
        if self.files and self.files[self.selected].state != "rejected":
            self.post_message(self.RejectRequested(self.selected, None))

    def action_accept_hunk(self) -> None:
        if self.files and self.files[self.selected].patch.hunks:
            self.set_hunk_state(self.selected, self.hunk, "accepted")
            self.action_next_hunk()

    def action_reject_hunk(self) -> None:
        if self.files and self.files[self.selected].patch.hunks:
            if self.files[self.selected].states[self.hunk] != "rejected":
                self.post_message(self.RejectRequested(self.selected, self.hunk))

    def action_next_hunk(self) -> None:
        if self.files:
            last = len(self.files[self.selected].patch.hunks) - 1
            if self.hunk < last:
                self.hunk += 1
            elif self.selected < len(self.files) - 1:
                self.selected, self.hunk = self.selected + 1, 0
            self.refresh_view()

    def action_previous_hunk(self) -> None:
        if self.files:
            if self.hunk > 0:
                self.hunk -= 1
            elif self.selected > 0:
                self.selected -= 1
                self.hunk = max(0, len(self.files[self.selected].patch.hunks) - 1)
            self.refresh_view()
