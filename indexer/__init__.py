"""Repository indexer: discover, parse, rank, map, pack and search a codebase.

The contract other components use::

    from indexer import Index
    with Index.open(repo) as index:
        index.refresh()
        pack = index.pack("how are tokens counted?", 200_000)
        print(pack.to_markdown())

Exports load on first use: every ``engram`` command imports ``indexer.config`` (and so this
package), and must not pay for the tokenizer, numpy and scipy unless it indexes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "IndexSettings": "indexer.config",
    "CacheLockedError": "indexer.errors",
    "IndexerError": "indexer.errors",
    "NotAWorkTreeError": "indexer.errors",
    "Index": "indexer.index",
    **{name: "indexer.models" for name in (
        "FORMATS", "Definition", "FileInfo", "Reference", "RefreshStats", "RepoMap", "SearchHit",
        "SymbolInfo",
    )},
    "Pack": "indexer.pack",
    "PackEntry": "indexer.pack",
    "ProgressCallback": "indexer.refresh",
    "DEFAULT_SECRET_PATTERNS": "indexer.secrets",
    "TokenCounter": "indexer.tokens",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'indexer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from indexer.config import IndexSettings
    from indexer.errors import CacheLockedError, IndexerError, NotAWorkTreeError
    from indexer.index import Index
    from indexer.models import (
        FORMATS,
        Definition,
        FileInfo,
        Reference,
        RefreshStats,
        RepoMap,
        SearchHit,
        SymbolInfo,
    )
    from indexer.pack import Pack, PackEntry
    from indexer.refresh import ProgressCallback
    from indexer.secrets import DEFAULT_SECRET_PATTERNS
    from indexer.tokens import TokenCounter
