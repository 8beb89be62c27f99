"""The memory's SQLite file: schema, versions, transactions and repair of a damaged file.

Every content change (insert, edit, forget, pin) bumps ``meta.generation`` in its own
transaction and stamps the changed row (or its tombstone) with that generation in ``seq``;
another process notices the change by reading the generation and loading rows with a
higher ``seq``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.memory.errors import MemoryCorruptError, MemorySchemaError
from agent.memory.models import MemoryEntry

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Files up to this size get a full page check at open (~tens of ms); larger ones a cheap probe.
_QUICK_CHECK_MAX_BYTES = 32 << 20
_CORRUPT_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    norm_hash TEXT NOT NULL,
    keys BLOB NOT NULL,
    n_tokens INTEGER NOT NULL,
    sources TEXT NOT NULL,
    confidence REAL NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_used_at REAL,
    use_count INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL
);
CREATE INDEX entries_seq ON entries(seq);
CREATE INDEX entries_norm ON entries(norm_hash);
CREATE TABLE tombstones (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX tombstones_seq ON tombstones(seq);
CREATE TABLE imported_files (
    path TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
"""

ENTRY_COLUMNS = ("id, kind, text, sources, confidence, pinned, created_at, updated_at, "
                 "last_used_at, use_count")


@dataclass
class OpenedDatabase:
    """A connection ready for use, plus what the user must be told about how it was opened."""

    conn: sqlite3.Connection
    db_id: str
    warnings: list[str] = field(default_factory=list)
    salvaged: list[dict[str, Any]] = field(default_factory=list)
    """Entries read back from a damaged file; the store re-inserts them."""


def is_corruption(exc: BaseException) -> bool:
    """Whether an sqlite3 error means the file is damaged (not merely locked or busy)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(_CORRUPT_CODES):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open in autocommit mode (transactions are explicit), WAL, with a busy timeout."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (takes the write lock up front, waiting up to the busy timeout)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def bump_generation(conn: sqlite3.Connection) -> int:
    """Advance the content generation (inside a write transaction) and return it."""
    row = conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value").fetchone()
    return int(row[0])


def generation(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def row_to_entry(row: tuple[Any, ...]) -> MemoryEntry:
    """Build an entry from a row selected with ``ENTRY_COLUMNS``."""
    return MemoryEntry(
        id=int(row[0]), kind=row[1], text=row[2], sources=tuple(json.loads(row[3])),
        confidence=float(row[4]), pinned=bool(row[5]), created_at=float(row[6]),
        updated_at=float(row[7]), last_used_at=None if row[8] is None else float(row[8]),
        use_count=int(row[9]),
    )


def open_database(path: Path, busy_timeout_ms: int) -> OpenedDatabase:
    """Open (creating or upgrading) the memory database at ``path``.

    A newer schema raises ``MemorySchemaError`` and leaves the file alone. A damaged file
    is moved aside to ``<name>.corrupt-<time>``, a fresh one is created, and whatever
    entries could still be read are handed back in ``salvaged``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open_checked(path, busy_timeout_ms)
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
    # Serialize repairs so two processes cannot both move files aside.
    with _repair_lock(path):
        try:
            return _open_checked(path, busy_timeout_ms)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            reason = str(exc)
        aside = _move_aside(path)
        salvaged = _salvage(aside)
        opened = _open_checked(path, busy_timeout_ms)
        message = (f"{path.name} was damaged ({reason}); moved it aside to {aside.name} and "
                   f"started a new memory ({len(salvaged)} entries recovered)")
        log.warning(message)
        opened.warnings.append(message)
        opened.salvaged = salvaged
        return opened


def _open_checked(path: Path, busy_timeout_ms: int) -> OpenedDatabase:
    existed = path.exists() and path.stat().st_size > 0
    conn = connect(path, busy_timeout_ms)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise MemorySchemaError(
                f"{path} uses memory schema version {version}, but this Engram reads up to "
                f"version {SCHEMA_VERSION}; upgrade Engram (or move the file aside to start "
                "a new memory)")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        if existed and path.stat().st_size <= _QUICK_CHECK_MAX_BYTES:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
        if version < SCHEMA_VERSION:
            _create_schema(conn)
        db_id = str(conn.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0])
        generation(conn)
        return OpenedDatabase(conn=conn, db_id=db_id)
    except BaseException:
        conn.close()
        raise


def _create_schema(conn: sqlite3.Connection) -> None:
    with write_transaction(conn):
        # Another process may have created it while we waited for the lock.
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
            return
        for statement in _SCHEMA.strip().split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO meta (key, value) VALUES ('generation', 0), ('count', 0), "
                     "('db_id', ?)", (uuid.uuid4().hex,))
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def _repair_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(aside.with_name(aside.name + suffix))
    return aside


def _salvage(aside: Path) -> list[dict[str, Any]]:
    """Read whatever entries a damaged file still yields, stopping at the first bad page."""
    found: list[dict[str, Any]] = []
    try:
        conn = sqlite3.connect(f"file:{aside}?mode=ro", uri=True)
    except sqlite3.Error:
        return found
    try:
        cursor = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM entries ORDER BY id")
        for row in cursor:
            try:
                found.append(row_to_entry(row).to_dict())
            except (ValueError, TypeError):
                continue
    except sqlite3.Error:
        pass
    finally:
        conn.close()
    return found


def raise_if_corrupt(exc: sqlite3.DatabaseError, path: Path) -> None:
    """Turn a corruption error met after open into a message that says how to repair it."""
    if is_corruption(exc):
        raise MemoryCorruptError(
            f"{path} is damaged ({exc}); open the memory again to move it aside and rebuild"
        ) from None
