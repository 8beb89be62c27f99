"""Keeping the entries imported from instruction files in step with the files."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from agent.memory import writer
from agent.memory.drafts import Draft
from agent.memory.errors import MemoryInputError
from agent.memory.instructions import decode, split_rules
from agent.memory.models import ImportReport

if TYPE_CHECKING:
    from agent.memory.store import MemoryStore


def sync_instruction_files(store: MemoryStore) -> ImportReport:
    """Import new or changed instruction files; drop rules of removed or changed ones."""
    report = ImportReport()
    settings = store.settings
    for rel in settings.instruction_files:
        path = store.root / rel
        source = f"file:{rel}"
        try:
            st = path.stat() if path.is_file() else None
        except OSError as exc:
            report.skipped.append(f"{rel}: cannot be read ({exc.strerror})")
            continue
        with store.transaction() as txn:
            record = txn.conn.execute(
                "SELECT digest, size, mtime_ns FROM imported_files WHERE path = ?",
                (rel,)).fetchone()
        if st is None:
            if record is not None:
                _replace_rules(store, rel, source, [], None, report)
            continue
        if record is not None and (record[1], record[2]) == (st.st_size, st.st_mtime_ns):
            continue
        if st.st_size > settings.max_instruction_file_bytes:
            report.skipped.append(
                f"{rel}: {st.st_size:,} bytes is over the {settings.max_instruction_file_bytes:,}"
                "-byte limit for instruction files; not imported")
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.skipped.append(f"{rel}: cannot be read ({exc.strerror})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        stamp = (digest, st.st_size, st.st_mtime_ns)
        if record is not None and record[0] == digest:
            with store.transaction() as txn:
                _save_record(txn, rel, stamp)
            continue
        decoded = decode(data, rel)
        if decoded.problem:
            report.skipped.append(decoded.problem)
        _replace_rules(store, rel, source, split_rules(decoded.text, settings.max_entry_chars),
                       stamp, report)
    return report


def _replace_rules(store: MemoryStore, rel: str, source: str, rules: list[str],
                   stamp: tuple[str, int, int] | None, report: ImportReport) -> None:
    keyed = []
    for rule in rules:
        try:
            keyed.append((rule, writer.keys_for(rule, store.settings)))
        except MemoryInputError:
            continue  # a rule of punctuation only
    wanted = {ek.norm_hash for _, ek in keyed}
    with store.transaction() as txn:
        have: set[str] = set()
        gone: list[int] = []
        for entry_id, norm_hash, sources in txn.conn.execute(
                "SELECT id, norm_hash, sources FROM entries WHERE instr(sources, ?) > 0",
                (json.dumps(source),)).fetchall():
            listed = json.loads(sources)
            if source not in listed:
                continue
            if norm_hash in wanted:
                have.add(norm_hash)
            elif listed == [source]:
                gone.append(int(entry_id))
            else:
                txn.conn.execute("UPDATE entries SET sources = ? WHERE id = ?",
                                 (json.dumps([s for s in listed if s != source]), entry_id))
        report.removed += writer.forget(txn, gone)
        for rule, ek in keyed:
            if ek.norm_hash in have:
                continue
            have.add(ek.norm_hash)
            draft = Draft(text=rule, kind="convention", sources=(source,), confidence=1.0,
                          pinned=True)
            # Exact de-duplication only: two similar rules of one file are both meant.
            written = writer.insert(txn, draft, ek, near_dedup=False)
            if written.merged:
                report.merged += 1
            else:
                report.added += 1
        if stamp is None:
            txn.conn.execute("DELETE FROM imported_files WHERE path = ?", (rel,))
        else:
            _save_record(txn, rel, stamp)


def _save_record(txn: writer.Txn, rel: str, stamp: tuple[str, int, int]) -> None:
    txn.conn.execute(
        "INSERT OR REPLACE INTO imported_files (path, digest, size, mtime_ns) VALUES (?, ?, ?, ?)",
        (rel, *stamp))
