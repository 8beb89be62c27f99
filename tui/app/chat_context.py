"""What a follow-up task is told about the earlier tasks of this conversation.

Each task runs as its own agent session; the conversation carries a short digest of the
earlier ones so "now do the same for X" works. ``/compact`` shortens it, ``/clear`` drops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChatContext:
    """Earlier tasks and their outcomes, newest last."""

    turns: list[str] = field(default_factory=list)
    compacted: str = ""
    max_turns: int = 6

    def add(self, task: str, outcome: str, files: list[str]) -> None:
        changed = f" (changed: {', '.join(files[:6])})" if files else ""
        self.turns.append(f"- {_short(task, 160)} -> {_short(outcome, 160)}{changed}")
        if len(self.turns) > self.max_turns:
            self.compact()

    def compact(self) -> int:
        """Fold the turns into one line; returns how many turns were folded."""
        if not self.turns:
            return 0
        folded = len(self.turns)
        parts = ([self.compacted] if self.compacted else []) + [t[2:].split(" -> ")[0] for t in self.turns]
        self.compacted = _short("earlier tasks: " + "; ".join(p.removeprefix("earlier tasks: ")
                                                                for p in parts), 600)
        self.turns = []
        return folded

    def clear(self) -> None:
        self.turns, self.compacted = [], ""

    def preface(self, task: str) -> str:
        """``task`` with the earlier conversation appended (unchanged when there is none)."""
        if not self.turns and not self.compacted:
            return task
        lines = ([self.compacted] if self.compacted else []) + self.turns
        return f"{task}\n\nEarlier in this conversation:\n" + "\n".join(lines)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
