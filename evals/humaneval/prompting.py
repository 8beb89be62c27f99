"""How a HumanEval problem is put to a model: as a chat request or as raw text to continue."""

from __future__ import annotations

from typing import Literal

from evals.humaneval.dataset import Problem

PromptStyle = Literal["chat", "completion"]

CHAT_INSTRUCTION = (
    "Complete the following Python function. Answer with the whole function (its signature, "
    "the imports it needs and a full body) in one ```python code block.\n\n"
    "```python\n{prompt}```"
)
"""The chat request: the whole function in one fenced block, which the extractor takes first."""

COMPLETION_STOPS = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]
"""Where a completion-style continuation of the function body ends (Codex paper's stops)."""


def chat_messages(problem: Problem) -> list[dict[str, str]]:
    """OpenAI-style messages asking for the whole function."""
    return [{"role": "user", "content": CHAT_INSTRUCTION.format(prompt=problem.prompt)}]


def completion_prompt(problem: Problem) -> str:
    """The raw text a completion model continues: the signature and docstring."""
    return problem.prompt
