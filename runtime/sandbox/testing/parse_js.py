"""Parsers for jest and vitest output (default and verbose reporters)."""

from __future__ import annotations

import re

from runtime.sandbox.testing.report import ParsedTests, shorten

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_JEST_FILE = re.compile(r"^(PASS|FAIL)\s+(\S+)")
_JEST_CASE = re.compile(r"^(\s+)([✓✕○√×]|skipped|todo)\s+(.+?)(?:\s+\(\d+(?:\.\d+)?\s*m?s\))?$")
_JEST_BULLET = re.compile(r"^\s+● (.+)$")
_JEST_TOTALS = re.compile(r"^Tests:\s+(.*)$", re.MULTILINE)
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|todo|pending)")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (runners colour their output when they think they may)."""
    return _ANSI.sub("", text)


def parse_jest(text: str) -> ParsedTests:
    """Ids are ``file › describe › test``; verbose lines give passes, ``●`` blocks give
    failures and their excerpts, the ``Tests:`` line gives totals."""
    res = ParsedTests()
    text = strip_ansi(text)
    current_file = ""
    stack: list[tuple[int, str]] = []  # (indent, describe title)
    bullet: str | None = None
    bullets: dict[str, list[str]] = {}
    for line in text.splitlines():
        if m := _JEST_FILE.match(line):
            current_file, stack, bullet = m.group(2), [], None
            continue
        if line.startswith(("Test Suites:", "Tests:", "Snapshots:", "Time:")):
            bullet = None
            continue
        if m := _JEST_BULLET.match(line):
            if m.group(1).startswith("Console"):
                bullet = None
                continue
            bullet = f"{current_file} › {m.group(1)}" if current_file else m.group(1)
            bullets[bullet] = []
            continue
        if bullet is not None:
            bullets[bullet].append(line)
            continue
        if m := _JEST_CASE.match(line):
            indent = len(m.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            title = " › ".join([current_file, *(t for _, t in stack), m.group(3)])
            mark = m.group(2)
            res.add(res.passed if mark in "✓√" else res.failed if mark in "✕×" else res.skipped,
                    title)
            continue
        if current_file and line.strip() and line.startswith("  ") and not line.startswith("    at "):
            indent = len(line) - len(line.lstrip())
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, line.strip()))
    for title, body in bullets.items():
        res.add(res.failed, title)
        res.excerpts[title] = shorten("\n".join(ln for ln in body if not ln.strip().startswith("at ")))
    if m := _JEST_TOTALS.search(text):
        res.counts = {kind: int(n) for n, kind in _COUNT.findall(m.group(1))}
    return res


_VT_CASE = re.compile(r"^\s*([✓×↓]|✔|✗)\s+(\S+\.\w+ > .+?)(?:\s+\d+(?:\.\d+)?m?s)?$")
_VT_FILE_FAILED = re.compile(r"^\s*❯\s+(\S+)\s+\(.*failed")
_VT_NESTED_FAIL = re.compile(r"^\s+×\s+(.+?)(?:\s+\d+(?:\.\d+)?m?s)?$")
_VT_FAIL_BLOCK = re.compile(r"^\s*FAIL\s+(\S+ > .+?)\s*$")
_VT_SEPARATOR = re.compile(r"^⎯{3,}")
_VT_TOTALS = re.compile(r"^\s+Tests\s+(.*)$", re.MULTILINE)


def parse_vitest(text: str) -> ParsedTests:
    """Ids are ``file > describe > test``; verbose lines give passes, ``FAIL`` blocks the
    failures and excerpts, the ``Tests`` line totals."""
    res = ParsedTests()
    text = strip_ansi(text)
    failed_file = ""
    block: str | None = None
    blocks: dict[str, list[str]] = {}
    for line in text.splitlines():
        if _VT_SEPARATOR.match(line):
            block = None
            continue
        if m := _VT_FAIL_BLOCK.match(line):
            block = m.group(1)
            blocks.setdefault(block, [])
            continue
        if block is not None:
            blocks[block].append(line)
            continue
        if m := _VT_CASE.match(line):
            mark, title = m.groups()
            res.add(res.passed if mark in "✓✔" else res.failed if mark in "×✗" else res.skipped,
                    title)
            continue
        if m := _VT_FILE_FAILED.match(line):
            failed_file = m.group(1)
            continue
        if failed_file and (m := _VT_NESTED_FAIL.match(line)):
            res.add(res.failed, f"{failed_file} > {m.group(1)}")
    for title, body in blocks.items():
        res.add(res.failed, title)
        kept = [ln for ln in body if ln.strip()]
        res.excerpts[title] = shorten("\n".join(kept), max_lines=12)
    if m := _VT_TOTALS.search(text):
        res.counts = {kind: int(n) for n, kind in _COUNT.findall(m.group(1))}
    return res
