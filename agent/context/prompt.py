"""The messages of one model call, rebuilt every time from the state.

The system prompt (rules, conventions, pinned files, recalled memory, repository) and the task message
(task, plan, summary of compacted turns) are regenerated for every call, so compaction can
never drop the task, the plan or the conventions: only the conversation turns are summarized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.context.pinned import PinnedFile
from agent.prompts import render


@dataclass
class PromptParts:
    repo_name: str
    task: str
    mode: str
    context: str
    plan: str = ""
    conventions: list[str] = field(default_factory=list)
    memories: list[str] = field(default_factory=list)
    summary: str = ""
    pinned: list[PinnedFile] = field(default_factory=list)
    """Files the user pinned, with their current text (in the system prompt, in full)."""


def system_text(parts: PromptParts) -> str:
    return render("system", repo_name=parts.repo_name, mode=parts.mode, context=parts.context,
                  conventions=parts.conventions, memories=parts.memories,
                  pinned=[_fenced(p) for p in parts.pinned],
                  edit_format=render("edit_format"))


def _fenced(pinned: PinnedFile) -> str:
    fence = "````" if "```" in pinned.text else "```"
    return f"### {pinned.path}\n{fence}\n{pinned.text.rstrip()}\n{fence}"


def task_text(parts: PromptParts) -> str:
    text = render("task", task=parts.task, plan=parts.plan)
    if parts.summary:
        text += "\n\n" + render("summary", summary=parts.summary)
    return text


def assemble(parts: PromptParts, turns: list[BaseMessage], *, extra: str | None = None) -> list[BaseMessage]:
    """System message, task message, the conversation turns, and ``extra`` as a last user
    message (e.g. the planning instruction)."""
    messages: list[BaseMessage] = [SystemMessage(system_text(parts)), HumanMessage(task_text(parts))]
    messages.extend(turns)
    if extra:
        messages.append(HumanMessage(extra))
    return messages
