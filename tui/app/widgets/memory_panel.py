"""The Memory tab: entries recalled for this task and the n-grams that matched; edit, forget, pin."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option


class MemoryPanel(Vertical):
    """Recalled entries (or all of them after ``/memory``); actions go to the app."""

    BINDINGS = [
        Binding("e", "act('edit')", "Edit"),
        Binding("f", "act('forget')", "Forget"),
        Binding("p", "act('pin')", "Pin/unpin"),
    ]

    class ActionRequested(Message):
        """Edit, forget or pin the entry ``entry_id``."""

        def __init__(self, action: str, entry_id: int, text: str, pinned: bool) -> None:
            super().__init__()
            self.action = action
            self.entry_id = entry_id
            self.text = text
            self.pinned = pinned

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[Any] = []
        """``MemoryEntry`` objects, shown in order."""
        self.matched: list[tuple[str, ...]] = []

    def compose(self) -> ComposeResult:
        yield Static("Nothing recalled yet.", id="memory-title", classes="panel-note")
        yield OptionList(id="memory-entries")
        with Horizontal(classes="button-row"):
            yield Button("Edit", id="memory-edit", compact=True)
            yield Button("Forget", id="memory-forget", compact=True, variant="error")
            yield Button("Pin", id="memory-pin", compact=True)

    def show(self, title: str, entries: list[Any], matched: list[tuple[str, ...]] | None = None) -> None:
        """``entries`` are ``MemoryEntry``; ``matched[i]`` the n-grams that recalled entry i."""
        self.entries = list(entries)
        self.matched = list(matched or [()] * len(entries))
        self.query_one("#memory-title", Static).update(title)
        options = self.query_one("#memory-entries", OptionList)
        options.clear_options()
        for entry, grams in zip(self.entries, self.matched):
            label = Text.assemble(("📌 " if entry.pinned else "", "yellow"), (f"[{entry.kind}] ", "bold cyan"),
                                  entry.text)
            if grams:
                label.append("\n  matched: ", style="dim")
                label.append(", ".join(f"“{g}”" for g in grams[:6]), style="italic green")
            options.add_option(Option(label, id=str(entry.id)))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("memory-"):
            event.stop()
            self.action_act(event.button.id.removeprefix("memory-"))

    def action_act(self, action: str) -> None:
        index = self.query_one("#memory-entries", OptionList).highlighted
        if index is None or index >= len(self.entries):
            self.notify("Select a memory entry first.", severity="warning")
            return
        entry = self.entries[index]
        self.post_message(self.ActionRequested(action, entry.id, entry.text, entry.pinned))
