"""Slash commands typed in the prompt, and the same actions in Textual's command palette."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app.app import EngramApp


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str
    help: str
    method: str
    """The ``EngramApp`` method that runs it, called with the text after the name."""


SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/undo", "/undo", "undo the last edit set (or rejected hunk)", "command_undo"),
    SlashCommand("/diff", "/diff", "show every change of this conversation", "command_diff"),
    SlashCommand("/model", "/model [provider:model]", "show or switch the model", "command_model"),
    SlashCommand("/policy", "/policy [suggest|auto-edit|full-auto]", "show or set the approval policy",
                 "command_policy"),
    SlashCommand("/memory", "/memory", "list everything Engram remembers here", "command_memory"),
    SlashCommand("/compact", "/compact", "fold earlier tasks into a short digest", "command_compact"),
    SlashCommand("/clear", "/clear", "clear the conversation, its digest and pinned files",
                 "command_clear"),
    SlashCommand("/pin", "/pin [path ...]", "show the pinned files, or pin more (like @path)",
                 "command_pin"),
    SlashCommand("/unpin", "/unpin [path ...]", "unpin files (all of them without a path)",
                 "command_unpin"),
    SlashCommand("/history", "/history", "list past sessions and resume one", "command_history"),
    SlashCommand("/setup", "/setup", "choose the model (provider, key, local model)", "command_setup"),
    SlashCommand("/help", "/help", "commands and keys", "command_help"),
)

KEYS_HELP: tuple[tuple[str, str], ...] = (
    ("Enter", "send the task"), ("Esc", "cancel the running task"),
    ("Ctrl+Z", "undo the last edit set"), ("Ctrl+P", "command palette"),
    ("Ctrl+B", "show or hide the side panel"), ("Ctrl+T", "light or dark theme"),
    ("Ctrl+R", "session history"), ("Tab", "complete a /command or @file"),
    ("space / f, j / k", "edit approval: leave a hunk / a file out or back in; move"),
    ("a / r, y / d, n / p", "Changes tab: accept/reject file, hunk; next/previous hunk"),
    ("e / f / p", "Memory tab: edit, forget, pin"), ("Ctrl+Q", "quit"),
)


def find(text: str) -> tuple[SlashCommand | None, str]:
    """The command ``text`` starts with and its argument; (None, "") for unknown ones."""
    name, _, arg = text.strip().partition(" ")
    command = next((c for c in SLASH_COMMANDS if c.name == name.lower()), None)
    return command, arg.strip()


def help_markdown() -> str:
    rows = "\n".join(f"| `{c.usage}` | {c.help} |" for c in SLASH_COMMANDS)
    keys = "\n".join(f"| {k} | {v} |" for k, v in KEYS_HELP)
    return (f"**Commands**\n\n| command | does |\n|---|---|\n{rows}\n\n"
            f"**Keys**\n\n| key | does |\n|---|---|\n{keys}\n\n"
            "Mention a file with `@path` to pin it into the conversation.")


def run_slash(app: EngramApp, text: str) -> bool:
    """Run the slash command in ``text``; False when there is no such command."""
    command, arg = find(text)
    if command is None:
        return False
    getattr(app, command.method)(arg)
    return True


class EngramCommands(Provider):
    """Engram's actions in the command palette (Ctrl+P)."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: EngramApp = self.app  # type: ignore[assignment]
        entries: list[tuple[str, str, Callable[[], Any]]] = [
            ("Cancel the running task", "stop the agent now", app.action_cancel_task),
            ("Undo the last edit set", "restore the files as they were", app.action_undo),
            ("Toggle side panel", "plan, changes, tests, memory, files", app.action_toggle_panel),
            ("Toggle light/dark theme", "switch the colour theme", app.action_toggle_dark),
            ("Session history", "list and resume past sessions", app.action_history),
            ("Model setup", "provider, base URL, key variable, local model", app.action_setup),
        ]
        for command in SLASH_COMMANDS:
            if command.name in ("/undo", "/history", "/setup"):
                continue
            entries.append((command.usage, command.help, partial(run_slash, app, command.name)))
        for policy in ("suggest", "auto-edit", "full-auto"):
            entries.append((f"Policy: {policy}", "set the approval policy",
                            partial(app.command_policy, policy)))
        for tab in ("plan", "changes", "tests", "memory", "files"):
            entries.append((f"Show {tab.title()} tab", "open it in the side panel",
                            partial(app.show_tab, tab)))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
