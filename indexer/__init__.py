"""Repository indexer: discover, parse, rank, map, pack and search a codebase.

The contract other components use::

    from indexer import Index
    with Index.open(repo) as index:
        index.refresh()
        pack = index.pack("how are tokens counted?", 200_000)
        print(pack.to_markdown())
"""

from __future__ import annotations

from indexer.config import IndexSettings
from indexer.errors import CacheLockedError, IndexerError, NotAWorkTreeError
from indexer.index import Index
from indexer.models import (
    Definition,
    FileInfo,
    Reference,
    RefreshStats,
    RepoMap,
    SearchHit,
    SymbolInfo,
)
from indexer.pack import FORMATS, Pack, PackEntry
from indexer.refresh import ProgressCallback
from indexer.secrets import DEFAULT_SECRET_PATTERNS
from indexer.tokens import TokenCounter

__all__ = [
    "DEFAULT_SECRET_PATTERNS",
    "FORMATS",
    "CacheLockedError",
    "Definition",
    "FileInfo",
    "Index",
    "IndexSettings",
    "IndexerError",
    "NotAWorkTreeError",
    "Pack",
    "PackEntry",
    "ProgressCallback",
    "Reference",
    "RefreshStats",
    "RepoMap",
    "SearchHit",
    "SymbolInfo",
    "TokenCounter",
]
