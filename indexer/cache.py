"""The on-disk index: ``.engram/index.sqlite`` (WAL), parse results keyed by git blob SHA.

Two tables: ``blobs`` (one row per distinct content: the parse result, or why that content
is skipped) and ``files`` (path -> blob SHA, with size and mtime for the stat fast path).
Every refresh writes in one transaction, so a crash leaves the previous index intact. A
file that is not a database is moved aside and rebuilt; a cache locked by another writer
raises ``CacheLockedError`` with a one-line message.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexer.codec import decode_parsed
from indexer.errors import CacheLockedError, IndexerError
from indexer.models import ParsedFile

SCHEMA_VERSION = 4
"""Bump when the tables, the payload layout or the tag queries change."""


@dataclass(frozen=True, slots=True)
class FileRow:
    path: str
    sha: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class BlobRow:
    """A cached blob: either ``skip`` (why it is left out) or an encoded parse result."""

    sha: str
    skip: str | None
    payload: bytes | None


class IndexCache:
    """SQLite store of the index; one per ``Index``."""

    def __init__(self, path: Path, *, key: str, lock_timeout_s: float = 5.0) -> None:
        self.path = path
        self.key = key
        """Schema version and tokenizer: results made under another key are discarded."""
        self.lock_timeout_s = lock_timeout_s
        self.warnings: list[str] = []
        self._conn = self._open()

    # -- opening, recovery -------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexerError(f"cannot create the index cache folder {self.path.parent}: {exc.strerror or exc}") from exc
        try:
            conn = self._connect()
            self._prepare(conn)
            return conn
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise self._locked() from exc
            if "unable to open" in str(exc):
                raise IndexerError(f"cannot open the index cache {self.path}: {exc}") from exc
            return self._rebuild(exc)
        except sqlite3.DatabaseError as exc:
            return self._rebuild(exc)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.lock_timeout_s, isolation_level=None,
                               check_same_thread=False)
        # Switching a new file to WAL needs a moment alone with it, and SQLite answers BUSY at
        # once (no busy handler) when another opener is doing the same: wait like a lock.
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() >= deadline:
                    conn.close()
                    raise
                time.sleep(0.02)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key='cache_key'").fetchone()
        if row is not None and row[0] == self.key:
            return
        # New cache, or one made by another version or tokenizer: start over.
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have set it up while we waited for the write lock: then its
            # tables (and whatever it has indexed since) are already what we want.
            row = conn.execute("SELECT value FROM meta WHERE key='cache_key'").fetchone()
            if row is not None and row[0] == self.key:
                conn.execute("COMMIT")
                return
            conn.execute("DROP TABLE IF EXISTS blobs")
            conn.execute("DROP TABLE IF EXISTS files")
            conn.execute(
                "CREATE TABLE blobs (sha TEXT PRIMARY KEY, skip TEXT, payload BLOB)"
            )
            conn.execute(
                "CREATE TABLE files (path TEXT PRIMARY KEY, sha TEXT NOT NULL,"
                " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL)"
            )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('cache_key', ?)", (self.key,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _rebuild(self, exc: Exception) -> sqlite3.Connection:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    side.unlink()
        except OSError as move_exc:
            raise IndexerError(f"the index cache {self.path} is corrupt ({exc}) and cannot be moved aside: {move_exc}") from exc
        self.warnings.append(f"index cache {self.path} was unreadable ({exc}); moved it to {aside.name} and rebuilt it")
        conn = self._connect()
        self._prepare(conn)
        return conn

    def _locked(self) -> CacheLockedError:
        return CacheLockedError(
            f"the index cache {self.path} is locked by another process; try again when it finishes"
        )

    # -- reading -----------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise self._locked() from exc
            raise IndexerError(f"cannot read the index cache {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise IndexerError(f"the index cache {self.path} is corrupt ({exc}); delete it to rebuild") from exc

    def file_rows(self) -> dict[str, FileRow]:
        with self._reading() as c:
            return {r[0]: FileRow(*r) for r in c.execute("SELECT path, sha, size, mtime_ns FROM files")}

    def blob_skips(self) -> dict[str, str | None]:
        """Every cached blob SHA -> its skip reason (None for parsed blobs)."""
        with self._reading() as c:
            return dict(c.execute("SELECT sha, skip FROM blobs"))

    def load_parsed(self, shas: Iterable[str]) -> dict[str, ParsedFile]:
        """Parse results of the given blobs (those cached)."""
        wanted = list(shas)
        out: dict[str, ParsedFile] = {}
        with self._reading() as c:
            for i in range(0, len(wanted), 900):
                chunk = wanted[i:i + 900]
                marks = ",".join("?" * len(chunk))
                for sha, payload in c.execute(
                    f"SELECT sha, payload FROM blobs WHERE skip IS NULL AND sha IN ({marks})", chunk
                ):
                    out[sha] = decode_parsed(payload)
        return out

    def get_meta(self, key: str) -> str | None:
        with self._reading() as c:
            row = c.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    # -- writing -----------------------------------------------------------------------
    def commit_refresh(
        self,
        *,
        blobs: Iterable[BlobRow],
        upsert_files: Iterable[FileRow],
        delete_paths: Iterable[str],
        meta: dict[str, str],
    ) -> None:
        """Write one refresh atomically: all of it or, on any error, none of it."""
        c = self._conn
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise self._locked() from exc
            raise IndexerError(f"cannot write the index cache {self.path}: {exc}") from exc
        try:
            c.executemany(
                "INSERT OR REPLACE INTO blobs (sha, skip, payload) VALUES (?, ?, ?)",
                ((b.sha, b.skip, b.payload) for b in blobs),
            )
            c.executemany("DELETE FROM files WHERE path=?", ((p,) for p in delete_paths))
            c.executemany(
                "INSERT OR REPLACE INTO files (path, sha, size, mtime_ns) VALUES (?, ?, ?, ?)",
                ((f.path, f.sha, f.size, f.mtime_ns) for f in upsert_files),
            )
            # Keep blobs of recently replaced content (a branch switch back reuses them),
            # but not without bound: drop unreferenced ones once they outnumber the rest.
            (unused,) = c.execute(
                "SELECT count(*) FROM blobs WHERE sha NOT IN (SELECT sha FROM files)"
            ).fetchone()
            (used,) = c.execute("SELECT count(DISTINCT sha) FROM files").fetchone()
            if unused > max(used, 1000):
                c.execute("DELETE FROM blobs WHERE sha NOT IN (SELECT sha FROM files)")
            c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            c.execute("COMMIT")
        except BaseException as exc:
            c.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                if _is_locked(exc):
                    raise self._locked() from exc
                raise IndexerError(f"cannot write the index cache {self.path}: {exc}") from exc
            if isinstance(exc, sqlite3.DatabaseError):
                raise IndexerError(f"the index cache {self.path} is corrupt ({exc}); delete it to rebuild") from exc
            raise

    def close(self) -> None:
        self._conn.close()


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg
