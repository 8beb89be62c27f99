"""Fixtures of the memory tests: a store on a small real git repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.memory import MemorySettings, MemoryStore


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"src/app.py": "def main() -> None:\n    pass\n", "README.md": "# app\n"})


@pytest.fixture
def store(repo: Path) -> Iterator[MemoryStore]:
    s = MemoryStore.open(repo, MemorySettings())
    yield s
    s.close()
