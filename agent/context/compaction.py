"""Compaction: when a prompt nears the window, old turns become a summary.

Only the conversation turns are compacted; the task, plan and conventions are rebuilt into
every prompt (see ``agent.context.prompt``). The cut never separates a tool call from its
result, so the kept turns stay a valid conversation for every provider.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from agent.prompts import render
from indexer import TokenCounter

_CACHE_SIZE = 4096
_PER_MESSAGE_OVERHEAD = 4


def content_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)


def message_text(message: BaseMessage) -> str:
    """Text of a message plus its tool calls (what the model reads of it)."""
    text = content_text(message)
    if isinstance(message, AIMessage) and message.tool_calls:
        text += "".join(f"\n{c['name']}({json.dumps(c.get('args') or {}, ensure_ascii=False)})"
                        for c in message.tool_calls)
    return text


class TokenTally:
    """Counts prompt tokens, remembering each message's count by content hash."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self._cache: OrderedDict[str, int] = OrderedDict()

    def count_text(self, text: str) -> int:
        key = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).hexdigest()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        n = self.counter.count(text)
        self._cache[key] = n
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return n

    def prime(self, text: str, tokens: int) -> None:
        """Record a count known without tokenizing ``text`` (e.g. a prompt whose repository
        part the indexer already counted)."""
        key = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).hexdigest()
        self._cache[key] = tokens
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    def count(self, messages: list[BaseMessage]) -> int:
        return sum(self.count_text(message_text(m)) + _PER_MESSAGE_OVERHEAD for m in messages)


def split_point(turns: list[BaseMessage], keep: int) -> int:
    """Index where the kept turns start: about ``keep`` from the end, moved back so that no
    tool result is separated from the call that asked for it."""
    cut = max(0, len(turns) - keep)
    while 0 < cut < len(turns) and isinstance(turns[cut], ToolMessage):
        cut -= 1
    return cut


def digest(turns: list[BaseMessage], max_chars: int = 240) -> str:
    """A summary without a model call: one line per turn."""
    lines = []
    for m in turns:
        text = " ".join(message_text(m).split())
        if isinstance(m, AIMessage):
            calls = ", ".join(f"{c['name']}({_short_args(c.get('args') or {})})" for c in m.tool_calls)
            said = " ".join(str(m.content).split())[:max_chars] if m.content else ""
            lines.append("- you: " + "; ".join(x for x in (said, f"called {calls}" if calls else "") if x))
        elif isinstance(m, ToolMessage):
            lines.append(f"- {m.name or 'tool'} -> {text[:max_chars]}")
        else:
            lines.append(f"- feedback: {text[:max_chars]}")
    return "\n".join(lines)


def transcript(turns: list[BaseMessage], max_chars: int = 2000) -> str:
    """The turns as text for the summarizing model (long ones shortened)."""
    out = []
    for m in turns:
        role = "assistant" if isinstance(m, AIMessage) else ("tool" if isinstance(m, ToolMessage) else "user")
        text = message_text(m)
        if len(text) > max_chars:
            text = text[: max_chars // 2] + "\n...\n" + text[-max_chars // 2:]
        out.append(f"[{role}] {text}")
    return "\n\n".join(out)


def compact_prompt(turns: list[BaseMessage], previous: str, max_words: int = 300) -> str:
    return render("compact", transcript=transcript(turns), previous=previous, max_words=max_words)


def _short_args(args: dict) -> str:
    text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    return text if len(text) <= 80 else text[:77] + "..."


class Compactor:
    """Decides when to compact and splits turns; the summary itself comes from the loop
    (a model call, or ``digest``)."""

    def __init__(self, tally: TokenTally, window: int, compact_at: float, keep: int) -> None:
        self.tally = tally
        self.limit = int(window * compact_at)
        self.keep = keep

    def needs(self, prompt: list[BaseMessage]) -> bool:
        return self.tally.count(prompt) > self.limit

    def split(self, turns: list[BaseMessage]) -> tuple[list[BaseMessage], list[BaseMessage]]:
        """``(old, kept)``; ``old`` is empty when nothing can be cut."""
        cut = split_point(turns, self.keep)
        return turns[:cut], turns[cut:]
