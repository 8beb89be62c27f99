"""What can go wrong with the memory; every message is meant for the user as it stands."""

from __future__ import annotations


class MemoryStoreError(Exception):
    """Base of the memory's errors: the message says what happened and what to do."""


class MemoryInputError(MemoryStoreError, ValueError):
    """Text, kind, source or file content the memory cannot take."""


class EntryNotFoundError(MemoryStoreError, KeyError):
    """No entry has the given id (it never existed, or it was forgotten or evicted)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "entry not found"


class MemorySchemaError(MemoryStoreError):
    """The database was written by a newer Engram; this build will not touch it."""


class MemoryCorruptError(MemoryStoreError):
    """The database turned out to be damaged after it was opened."""
