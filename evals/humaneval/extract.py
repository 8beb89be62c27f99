"""Turn a model's answer into a HumanEval completion (the text appended to the prompt).

Answers come fenced (```python ... ```), bare, as a whole function or as just a body. A whole
function is appended after the prompt, so it replaces the prompt's stub while the prompt's
imports and helper functions stay in scope; a body is indented under the prompt's signature.
"""

from __future__ import annotations

import ast
import re
import textwrap

from evals.humaneval.dataset import Problem
from evals.humaneval.prompting import COMPLETION_STOPS, PromptStyle

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = {"", "python", "py", "python3"}
_CODE_START = re.compile(r"^(?:def |async def |class |import |from \S+ import |@)", re.MULTILINE)
# Top-level statements worth keeping from a whole-file answer; calls, prints, asserts and
# `if __name__ == "__main__":` demos are dropped (they would run, or fail, before the tests).
_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign)


def first_code_block(answer: str) -> str | None:
    """The first fenced block tagged Python (or untagged); an unclosed last fence counts."""
    for match in _FENCE.finditer(answer):
        if match.group(1).lower() in _PYTHON_TAGS:
            return match.group(2)
    return None


def extract_completion(answer: str, problem: Problem, style: PromptStyle) -> str:
    """The completion for ``answer``: ``problem.prompt + completion`` is the program."""
    code = first_code_block(answer)
    if code is None:
        if style == "completion":
            return _truncate_at_stops(answer)
        code = _bare_code(answer)
    if _defines(code, problem.entry_point):
        return "\n" + _strip_demo_code(code)
    return _as_body(code)


def _truncate_at_stops(text: str) -> str:
    cut = min((i for i in (text.find(s) for s in COMPLETION_STOPS) if i >= 0), default=len(text))
    return text[:cut].rstrip() + "\n"


def _bare_code(answer: str) -> str:
    """Code in an unfenced answer: from the first line that starts code, with trailing prose
    lines dropped until the rest parses."""
    if _parses(answer):
        return answer
    start = _CODE_START.search(answer)
    if start is None:
        return answer
    lines = answer[start.start():].splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        if _parses(candidate):
            return candidate + "\n"
    return "\n".join(lines) + "\n"


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _defines(code: str, name: str) -> bool:
    """Whether ``code`` defines function ``name`` at top level (regex fallback when it does
    not parse, so a broken whole function still replaces the stub rather than nesting)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return re.search(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
               for n in tree.body)


def _strip_demo_code(code: str) -> str:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code if code.endswith("\n") else code + "\n"
    lines = code.splitlines()
    kept: list[str] = []
    for node in tree.body:
        if not isinstance(node, _KEEP):
            continue
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        assert node.end_lineno is not None
        kept.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n\n".join(kept) + "\n"


def _as_body(code: str) -> str:
    """A function body under the prompt's signature: indented one level if it is not."""
    code = code.strip("\n")
    if not code.strip():
        return ""
    if not code.startswith((" ", "\t")):
        code = textwrap.indent(textwrap.dedent(code), "    ")
    return code + "\n"
