"""Errors the indexer raises; each message is one line a user can act on."""

from __future__ import annotations


class IndexerError(Exception):
    """The index cannot be opened, refreshed or read; ``str(exc)`` says why."""


class CacheLockedError(IndexerError):
    """Another process holds the index cache's write lock."""


class NotAWorkTreeError(IndexerError):
    """The path is a bare git repository (no files to index)."""
