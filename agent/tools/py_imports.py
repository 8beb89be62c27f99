"""Which Python test files import the edited files, directly or through other modules.

Imports are read with ``ast`` (only ``import`` statements matter, so a file that does not
parse still yields the imports it has before the error: none, and it is simply skipped) and
resolved to repository files against a few import roots: the repository root, ``src/``, the
test runner's start and top-level folders, and the importing file's own folder. Direct imports
are cached per file by modification time and size, so repeated runs in a session only read
what changed.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

MAX_FILES = 5_000
"""Above this many Python files, import analysis is skipped (the caller falls back)."""


class ImportGraph:
    """Direct imports of the repository's Python files, read on demand and cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[tuple[int, int], list[tuple[str, int]]]] = {}

    def importers(self, edited: Iterable[str], tests: Sequence[str], py_files: Sequence[str],
                  roots: Sequence[str] = ()) -> list[str]:
        """The files of ``tests`` whose imports reach any of ``edited`` (in ``tests`` order)."""
        targets = {e for e in edited if e.endswith(".py")}
        if not targets or len(py_files) > MAX_FILES:
            return []
        modules = _module_table(py_files, ["", "src", *roots])
        files = frozenset(py_files)
        return [test for test in tests if self._reaches(test, targets, modules, files)]

    def _reaches(self, start: str, targets: set[str], modules: dict[str, str],
                 files: frozenset[str]) -> bool:
        seen = {start}
        todo = [start]
        while todo:
            path = todo.pop()
            if path in targets:
                return True
            for dep in self._deps(path, modules, files):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return False

    def _deps(self, path: str, modules: dict[str, str], files: frozenset[str]) -> list[str]:
        """Repository files ``path`` imports (with the ``__init__.py`` of their packages)."""
        here = PurePosixPath(path).parent
        out: list[str] = []
        for name, level in self._imports(path):
            if level:
                base = here
                for _ in range(level - 1):
                    base = base.parent
                rel = "" if base.as_posix() == "." else base.as_posix()
                target = f"{rel}/{name.replace('.', '/')}".strip("/") if name else rel
                found = [_file_of(target, files)]
            else:
                local = f"{here.as_posix()}/{name.replace('.', '/')}" if here.as_posix() != "." else ""
                found = [modules.get(name), _file_of(local, files)]
            for hit in found:
                if hit:
                    out.append(hit)
                    out.extend(_package_inits(hit, files))
        return out

    def _imports(self, path: str) -> list[tuple[str, int]]:
        """``(module, level)`` of every import in ``path``; ``from a import b`` gives both
        ``a`` and ``a.b`` (``b`` may be a submodule)."""
        full = self.root / path
        try:
            st = os.stat(full)
        except OSError:
            return []
        key = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        found: list[tuple[str, int]] = []
        try:
            tree = ast.parse(full.read_bytes(), filename=path)
        except (SyntaxError, ValueError, OSError):
            tree = None
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.extend((alias.name, 0) for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if module or node.level:
                        found.append((module, node.level))
                    found.extend((f"{module}.{alias.name}" if module else alias.name, node.level)
                                 for alias in node.names if alias.name != "*")
        self._cache[path] = (key, found)
        return found


def _module_table(py_files: Sequence[str], roots: Sequence[str]) -> dict[str, str]:
    """Dotted module name -> file, for every import root (earlier roots win)."""
    table: dict[str, str] = {}
    for root in roots:
        prefix = root.strip("/").rstrip("/")
        if prefix in (".",):
            prefix = ""
        for path in py_files:
            if prefix and not path.startswith(prefix + "/"):
                continue
            rel = path[len(prefix) + 1:] if prefix else path
            parts = rel[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                table.setdefault(".".join(parts), path)
    return table


def _file_of(rel: str, files: frozenset[str]) -> str | None:
    """The file of a module given as a repository-relative path without ``.py``."""
    if not rel:
        return None
    for candidate in (f"{rel}.py", f"{rel}/__init__.py"):
        if candidate in files:
            return candidate
    return None


def _package_inits(path: str, files: frozenset[str]) -> list[str]:
    parent = PurePosixPath(path).parent
    out = []
    while parent.as_posix() not in (".", ""):
        init = f"{parent.as_posix()}/__init__.py"
        if init in files and init != path:
            out.append(init)
        parent = parent.parent
    return out
