"""The prompt: one line to type a task, ``/commands`` and ``@file`` mentions with completion."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from tui.app.mentions import complete, mention_prefix


class PromptSuggester(Suggester):
    """Completes ``/command`` names and the path after a trailing ``@``."""

    def __init__(self, commands: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.commands = list(commands)
        self.files: list[str] = []

    async def get_suggestion(self, value: str) -> str | None:
        if value.startswith("/") and " " not in value:
            match = next((c for c in self.commands if c.startswith(value) and c != value), None)
            return match
        prefix = mention_prefix(value)
        if prefix is None:
            return None
        hits = complete(prefix, self.files, limit=1)
        if not hits or hits[0] == prefix:
            return None
        return value[: len(value) - len(prefix)] + hits[0]


class Prompt(Input):
    """Enter sends; Tab takes the completion shown in grey."""

    BINDINGS = [Binding("tab", "accept_suggestion", "Complete", show=False, priority=True)]

    def action_accept_suggestion(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
