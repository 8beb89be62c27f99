"""``MemoryStore``: the per-project Engram memory that the agent, the TUI and the API use."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.memory import db, writer
from agent.memory.config import MemorySettings
from agent.memory.drafts import (
    Draft,
    check_confidence,
    check_kind,
    clean_text,
    make_draft,
)
from agent.memory.errors import EntryNotFoundError, MemoryInputError, MemoryStoreError
from agent.memory.gate import gate
from agent.memory.keys import query_keys
from agent.memory.live_index import LiveIndex
from agent.memory.models import ImportReport, MemoryEntry, Recalled
from agent.memory.transfer import read_jsonl, write_jsonl

if TYPE_CHECKING:
    from indexer.tokens import TokenCounter

log = logging.getLogger(__name__)

DB_FILE_NAME = "memory.sqlite"
_CHUNK = 2000  # inserts per transaction in bulk writes: other writers wait at most one chunk
_MAX_MATCHED_SHOWN = 32
_TOUCH_BUSY_MS = 200
_USES_FLUSH_COUNT = 64  # recorded uses are written in batches: a recall need not write
_USES_FLUSH_SECONDS = 5.0


class MemoryStore:
    """What one project remembers. Open with ``MemoryStore.open(root)``; close when done.

    Safe to share between threads of one process; any number of processes may open the
    same memory at once.
    """

    def __init__(self, root: Path, db_path: Path, opened: db.OpenedDatabase,
                 settings: MemorySettings) -> None:
        self.root = root
        self.db_path = db_path
        self.settings = settings
        self.warnings: list[str] = list(opened.warnings)
        """What the user must be told about opening (a damaged file moved aside, ...)."""
        self._conn = opened.conn
        self._lock = threading.RLock()
        self._counter: TokenCounter | None = None
        self._uses: dict[int, float] = {}  # entry id -> last use, not yet written
        self._use_counts: dict[int, int] = {}
        self._uses_since = 0.0
        self._index = LiveIndex(self._conn, db_path.with_name(db_path.stem + ".tables"),
                                settings, opened.db_id)
        if opened.salvaged:
            self._restore(opened.salvaged)
        if writer.keys_outdated(self._conn, settings):
            with self.transaction(indexed=False) as txn:
                writer.rekey_if_outdated(txn)

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, project_root: Path, settings: MemorySettings | None = None, *,
             db_path: Path | None = None) -> MemoryStore:
        """Open (creating if needed) the memory of the project at ``project_root``.

        The database defaults to ``<root>/.engram/memory.sqlite``. Raises
        ``MemorySchemaError`` for a file from a newer Engram; a damaged file is moved aside
        and rebuilt, and ``store.warnings`` says so.
        """
        root = Path(project_root).expanduser()
        if not root.is_dir():
            raise MemoryStoreError(f"project folder does not exist: {root}")
        root = root.resolve()
        # Imported here: the indexer package's init loads parsers and a tokenizer (~1 s),
        # which tools that only read keys or settings should not pay for.
        from indexer.workspace import state_dir

        path = Path(db_path) if db_path is not None else state_dir(root) / DB_FILE_NAME
        try:
            opened = db.open_database(path, (settings or MemorySettings()).busy_timeout_ms)
        except sqlite3.OperationalError as exc:
            raise MemoryStoreError(f"cannot open {path}: {exc}") from None
        return cls(root, path, opened, settings or MemorySettings())

    def close(self) -> None:
        """Fold a large write buffer into the tables file, then close the database."""
        with self._lock:
            if self._conn is None:
                return
            with contextlib.suppress(sqlite3.Error, MemoryStoreError):
                self._flush_uses()
                self._index.refresh()
                self._index.ensure_built(eager=False)
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def remember(self, text: str, kind: str, source: str = "user", confidence: float = 1.0,
                 pinned: bool = False) -> MemoryEntry:
        """Store ``text`` as an entry of ``kind``, or merge it into a near-duplicate.

        A near-duplicate is an entry of the same kind whose normalized n-grams overlap at
        least ``settings.dedup_threshold`` (Jaccard); the merged entry keeps its text and
        gains ``source``. Raises ``MemoryInputError`` for empty, oversized or non-UTF-8 text.
        """
        draft = make_draft(text, kind, [source], confidence, pinned, self.settings)
        ek = writer.keys_for(draft.text, self.settings)
        with self.transaction() as txn:
            written = writer.insert(txn, draft, ek, near_dedup=True)
            writer.evict_over_cap(txn)
        return self.get(written.id)

    def remember_many(self, drafts: Iterable[Draft], *,
                      dedup: Literal["near", "exact"] = "near") -> ImportReport:
        """Bulk insert (imports, benchmarks): chunked transactions; bad items are reported.

        ``dedup="exact"`` only merges texts that normalize identically, which skips the
        per-item lookup and lets the tables be rebuilt once at the end.
        """
        report = ImportReport()
        chunk: list[tuple[Draft, Any]] = []
        for item in drafts:
            try:
                chunk.append((item, writer.keys_for(item.text, self.settings)))
            except MemoryInputError as exc:
                report.skipped.append(str(exc))
            if len(chunk) >= _CHUNK:
                self._write_chunk(chunk, dedup, report)
                chunk = []
        if chunk:
            self._write_chunk(chunk, dedup, report)
        if dedup == "exact" and report.added:
            with self._lock, self._db_errors():
                self._index.refresh()
        return report

    def edit(self, entry_id: int, text: str | None = None, *, kind: str | None = None,
             confidence: float | None = None) -> MemoryEntry:
        """Change an entry's text (re-indexed), kind or confidence."""
        new_text = None if text is None else clean_text(text, self.settings)
        new_kind = None if kind is None else check_kind(kind)
        new_conf = None if confidence is None else check_confidence(confidence)
        if new_text is not None:
            writer.keys_for(new_text, self.settings)
        with self.transaction() as txn:
            writer.edit(txn, int(entry_id), text=new_text, kind=new_kind, confidence=new_conf)
        return self.get(entry_id)

    def forget(self, entry_id: int) -> MemoryEntry:
        """Delete an entry for good; returns what it was."""
        entry = self.get(entry_id)
        with self.transaction() as txn:
            if not writer.forget(txn, [entry.id]):
                raise EntryNotFoundError(f"no memory entry #{entry_id}")
        return entry

    def pin(self, entry_id: int, pinned: bool = True) -> MemoryEntry:
        """Pinned entries are never evicted and never lose recency."""
        with self.transaction() as txn:
            cur = txn.conn.execute("UPDATE entries SET pinned = ? WHERE id = ?",
                                   (int(bool(pinned)), int(entry_id)))
            if cur.rowcount == 0:
                raise EntryNotFoundError(f"no memory entry #{entry_id}")
        return self.get(entry_id)

    # -- reading ---------------------------------------------------------------------------

    def get(self, entry_id: int) -> MemoryEntry:
        with self._lock, self._db_errors():
            self._flush_uses()
            row = self._conn.execute(f"SELECT {db.ENTRY_COLUMNS} FROM entries WHERE id = ?",
                                     (int(entry_id),)).fetchone()
        if row is None:
            raise EntryNotFoundError(f"no memory entry #{entry_id}")
        return db.row_to_entry(row)

    def list(self, kind: str | None = None, pinned: bool | None = None,
             limit: int | None = None) -> list[MemoryEntry]:
        """Entries, oldest first, optionally only of one kind or pin state."""
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(check_kind(kind))
        if pinned is not None:
            where.append("pinned = ?")
            args.append(int(pinned))
        sql = f"SELECT {db.ENTRY_COLUMNS} FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        with self._lock, self._db_errors():
            self._flush_uses()
            return [db.row_to_entry(r) for r in self._conn.execute(sql, args)]

    def count(self) -> int:
        with self._lock, self._db_errors():
            return int(self._conn.execute(
                "SELECT value FROM meta WHERE key = 'count'").fetchone()[0])

    def recall(self, context: str, budget_tokens: int | None = None, k: int | None = None,
               *, record_use: bool = True) -> list[Recalled]:
        """The entries ``context`` calls for, best first, within ``budget_tokens``.

        Candidates come from the multi-head tables; each must pass the context gate
        (``settings.gate_threshold``). ``record_use`` counts the recall as a use, which
        keeps the entries from decaying.
        """
        if not isinstance(context, str):
            raise MemoryInputError(f"context must be a string, not {type(context).__name__}")
        budget = self.settings.recall_budget_tokens if budget_tokens is None else budget_tokens
        k = self.settings.recall_k if k is None else k
        if not self.settings.enabled or budget <= 0 or k <= 0:
            return []
        context = context.encode("utf-8", "replace").decode("utf-8")
        query = query_keys(context, self.settings.max_ngram, self.settings.max_context_tokens)
        with self._lock, self._db_errors():
            self._index.refresh()
            candidates = self._index.lookup(query, limit=max(2 * k, 16))
            entries = self._fetch([c.id for c in candidates])
            now = time.time()
            gated = []
            for cand in candidates:
                entry = entries.get(cand.id)
                if entry is None:
                    continue
                result = gate(cand, entry, now, self.settings)
                if result.gate >= self.settings.gate_threshold:
                    gated.append((result.rank, cand, entry, result.gate))
            gated.sort(key=lambda item: -item[0])
            out: list[Recalled] = []
            used = 0
            counter = self._token_counter()
            for rank, cand, entry, gate_score in gated:
                if len(out) >= k:
                    break
                tokens = counter.count(entry.text)
                if used + tokens > budget:
                    continue
                used += tokens
                matched = tuple(query.ngrams[i] for i in cand.matched[:_MAX_MATCHED_SHOWN])
                out.append(Recalled(entry=entry, score=rank, gate=gate_score, matched=matched,
                                    tokens=tokens))
            if record_use and out:
                self._record_uses([r.entry.id for r in out], now)
        return out

    # -- files -----------------------------------------------------------------------------

    def export_jsonl(self, path: Path) -> int:
        """Write every entry to ``path`` as JSONL (atomically); returns how many."""
        return write_jsonl(self.list(), Path(path))

    def import_jsonl(self, path: Path) -> ImportReport:
        """Add the entries of a JSONL file (merging duplicates); bad lines are reported."""
        skipped: list[str] = []
        drafts: list[Draft] = []
        for _, item in read_jsonl(Path(path), self.settings):
            if isinstance(item, str):
                skipped.append(item)
            else:
                drafts.append(item)
        report = self.remember_many(drafts)
        report.skipped[:0] = skipped
        return report

    def import_instruction_files(self) -> ImportReport:
        """Import AGENTS.md, CLAUDE.md and .engram/memory.md as pinned conventions.

        A file is read again only when its size or time changed, and re-imported only when
        its content did: rules that left the file are removed, new ones added.
        """
        from agent.memory.instruction_sync import sync_instruction_files
        return sync_instruction_files(self)

    def compact(self) -> None:
        """Rebuild the lookup tables from the database now and save them."""
        with self._lock, self._db_errors():
            self._index.refresh()
            self._index.rebuild()

    def stats(self) -> dict[str, Any]:
        """Sizes and state, for status lines and ``--json`` output."""
        with self._lock, self._db_errors():
            self._index.refresh()
            pinned = int(self._conn.execute(
                "SELECT COUNT(*) FROM entries WHERE pinned = 1").fetchone()[0])
            tables = self._index.tables
            return {"entries": self.count(), "pinned": pinned,
                    "generation": db.generation(self._conn),
                    "table_rows": 0 if tables is None else tables.n_rows,
                    "pending": self._index.pending, "path": str(self.db_path)}

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, indexed: bool = True) -> Iterator[writer.Txn]:
        """A write transaction for this package's modules (``writer``, ``instruction_sync``).

        ``indexed=False`` leaves the written rows for the next refresh to index.
        """
        with self._lock, self._db_errors():
            try:
                with db.write_transaction(self._conn):
                    if indexed:
                        self._index.refresh()
                    txn = writer.Txn(self._conn, self._index, self.settings, time.time())
                    yield txn
                    if indexed and txn.generation is not None:
                        self._index.mark_seen(txn.generation)
            except MemoryStoreError:
                raise
            except BaseException:
                self._index.invalidate()
                raise

    @contextlib.contextmanager
    def _db_errors(self) -> Iterator[None]:
        if self._conn is None:
            raise MemoryStoreError("the memory is closed")
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise MemoryStoreError(
                    f"{self.db_path} is busy (another process held it for over "
                    f"{self.settings.busy_timeout_ms / 1000:g} s); try again") from None
            db.raise_if_corrupt(exc, self.db_path)
            raise
        except sqlite3.DatabaseError as exc:
            db.raise_if_corrupt(exc, self.db_path)
            raise

    def _write_chunk(self, chunk: list[tuple[Draft, Any]], dedup: str,
                     report: ImportReport) -> None:
        near = dedup == "near"
        # Exact de-duplication is a SQL lookup, so the rows need not be indexed one by one:
        # the next refresh loads them, or rebuilds the tables if there are many.
        with self.transaction(indexed=near) as txn:
            for draft, ek in chunk:
                written = writer.insert(txn, draft, ek, near_dedup=near, index_it=near)
                if written.merged:
                    report.merged += 1
                else:
                    report.added += 1
            report.removed += writer.evict_over_cap(txn)

    def _fetch(self, ids: list[int]) -> dict[int, MemoryEntry]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT {db.ENTRY_COLUMNS} FROM entries WHERE id IN ({marks})", ids).fetchall()
        return {int(r[0]): db.row_to_entry(r) for r in rows}

    def _record_uses(self, ids: list[int], now: float) -> None:
        if not self._uses:
            self._uses_since = now
        for i in ids:
            self._uses[i] = now
            self._use_counts[i] = self._use_counts.get(i, 0) + 1
        if len(self._uses) >= _USES_FLUSH_COUNT or now - self._uses_since >= _USES_FLUSH_SECONDS:
            self._flush_uses()

    def _flush_uses(self) -> None:
        """Write the recorded uses (also before any read that returns entries)."""
        if not self._uses:
            return
        rows = [(self._use_counts[i], t, i) for i, t in self._uses.items()]
        # Counting a use must never stall a recall behind another process's long write.
        self._conn.execute(f"PRAGMA busy_timeout = {_TOUCH_BUSY_MS}")
        try:
            with db.write_transaction(self._conn):
                self._conn.executemany(
                    "UPDATE entries SET use_count = use_count + ?, last_used_at = max("
                    "coalesce(last_used_at, 0), ?) WHERE id = ?", rows)
            self._uses.clear()
            self._use_counts.clear()
        except sqlite3.OperationalError as exc:
            log.info("memory uses not recorded yet (%s)", exc)  # kept for the next flush
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {int(self.settings.busy_timeout_ms)}")

    def _token_counter(self) -> TokenCounter:
        if self._counter is None:
            from indexer.tokens import TokenCounter

            self._counter = TokenCounter(self.settings.encoding)
        return self._counter

    def _restore(self, salvaged: list[dict[str, Any]]) -> None:
        drafts = []
        for item in salvaged:
            with contextlib.suppress(MemoryInputError):
                drafts.append(make_draft(
                    item["text"], item["kind"], item["sources"] or ["user"], item["confidence"],
                    item["pinned"], self.settings, created_at=item["created_at"],
                    updated_at=item["updated_at"], last_used_at=item["last_used_at"],
                    use_count=item["use_count"]))
        self.remember_many(drafts, dedup="exact")
