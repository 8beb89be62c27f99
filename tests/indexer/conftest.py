"""Fixtures of the indexer tests: sample sources per language and an index opener."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexer import Index, IndexSettings

SAMPLES = Path(__file__).with_name("samples")


def sample_sources() -> dict[str, str]:
    """``{file name: text}`` of the one-file-per-language samples.

    They are stored as ``<name>.txt`` so linters and compilers leave the deliberately
    incomplete code alone.
    """
    return {p.name.removesuffix(".txt"): p.read_text(encoding="utf-8")
            for p in sorted(SAMPLES.glob("*.txt"))}


@pytest.fixture
def open_index() -> Iterator[Callable[..., Index]]:
    """Open (and later close) an index of a folder; keyword arguments become IndexSettings."""
    opened: list[Index] = []

    def opener(root: Path, **settings: object) -> Index:
        index = Index.open(root, IndexSettings(**settings))
        opened.append(index)
        return index

    yield opener
    for index in opened:
        index.close()


def python_project(n_leaves: int = 6) -> dict[str, str]:
    """A small project: ``core/util.py`` used by every leaf module, leaves used by nobody."""
    files = {
        "core/__init__.py": "",
        "core/util.py": (
            '"""Shared helpers."""\n\n\n'
            "def normalize_path(p: str) -> str:\n    return p.strip('/')\n\n\n"
            "class ConfigLoader:\n    def load_config(self, name):\n        return normalize_path(name)\n"
        ),
    }
    for i in range(n_leaves):
        files[f"app/leaf_{i}.py"] = (
            "from core.util import ConfigLoader, normalize_path\n\n\n"
            f"def handler_{i}(x):\n"
            f"    loader = ConfigLoader()\n"
            f"    return normalize_path(loader.load_config(x)) + str({i})\n"
        )
    return files
