"""Syntax errors in source text, found with the indexer's tree-sitter grammars.

An edit set is judged by the errors it *introduces*: a file that was already broken may
stay as broken, but an edit may not add a new error.
"""

from __future__ import annotations

from collections import Counter

from tree_sitter import Node

from agent.edits.errors import SyntaxProblem
from indexer.languages import language_for, new_parser

_MAX_PROBLEMS = 20


def syntax_problems(path: str, text: str) -> list[SyntaxProblem]:
    """Every syntax error tree-sitter finds in ``text``; [] for languages it cannot parse."""
    language = language_for(path, text[:200].encode("utf-8", errors="replace"))
    if language is None:
        return []
    try:
        parser = new_parser(language)
    except (ImportError, AttributeError, ValueError):  # grammar wheel absent or incompatible
        return []
    source = text.encode("utf-8")
    tree = parser.parse(source)
    if not tree.root_node.has_error:
        return []
    lines = source.splitlines()
    problems: list[SyntaxProblem] = []
    stack = [tree.root_node]
    while stack and len(problems) < _MAX_PROBLEMS:
        node = stack.pop()
        if node.is_error or node.is_missing:
            problems.append(_problem(path, node, lines))
        elif node.has_error:
            stack.extend(reversed(node.children))
    problems.sort(key=lambda p: (p.line, p.column))
    return problems


def _problem(path: str, node: Node, lines: list[bytes]) -> SyntaxProblem:
    row, col = node.start_point
    line = lines[row].decode("utf-8", errors="replace") if row < len(lines) else ""
    if node.is_missing:
        message = f"missing {node.type!r}"
    else:
        text = (node.text or b"").decode("utf-8", errors="replace").strip().splitlines()
        first = text[0][:40] if text else ""
        message = f"unexpected {first!r}" if first else "syntax error"
    column = len(line.encode("utf-8")[:col].decode("utf-8", errors="replace")) + 1
    return SyntaxProblem(path=path, line=row + 1, column=column, message=message,
                         snippet=line.strip()[:120])


def introduced_problems(path: str, before: str | None, after: str) -> list[SyntaxProblem]:
    """Errors in ``after`` that ``before`` did not have (compared by message and line text,
    since line numbers shift when code is edited)."""
    new = syntax_problems(path, after)
    if not new or before is None:
        return new
    old = Counter((p.message, p.snippet) for p in syntax_problems(path, before))
    introduced = []
    for problem in new:
        key = (problem.message, problem.snippet)
        if old[key]:
            old[key] -= 1
        else:
            introduced.append(problem)
    return introduced
