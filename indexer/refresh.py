"""One incremental refresh: decide what changed, parse only that, write it in one go.

A file's content is identified by its git blob SHA: taken from git for clean tracked
files, reused from the cache when size and mtime are unchanged (and the file was not
modified within the same instant it was last indexed), hashed otherwise. Only blobs the
cache has never seen are parsed; a cold index parses them in a process pool.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from indexer.cache import BlobRow, FileRow, IndexCache
from indexer.config import IndexSettings
from indexer.discover import discover
from indexer.filters import PathFilter
from indexer.languages import EXTENSIONS, FILENAMES
from indexer.models import RefreshStats
from indexer.parse import ParseOutcome, blob_sha, parse_file
from indexer.secrets import SecretFilter

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(files_parsed, files_to_parse)``."""

POOL_MIN_FILES = 48
"""Below this many files to parse, a process pool costs more than it saves."""
_CHUNK = 12
_RACY_NS = 2_000_000_000


@dataclass(slots=True)
class RefreshResult:
    indexed: dict[str, str]
    """Path -> blob key of every indexed file."""
    sizes: dict[str, int]
    payloads: dict[str, bytes]
    """Blob key -> encoded parse result, for the blobs parsed in this refresh."""
    stats: RefreshStats = field(default_factory=RefreshStats)


def blob_key(sha: str, path: str) -> str:
    """Cache key of a blob as seen at ``path``: the same bytes parse differently as .py and .js."""
    p = PurePosixPath(path)
    lang = EXTENSIONS.get(p.suffix.lower()) or FILENAMES.get(p.name) or ("" if not p.suffix else "text")
    return f"{sha}:{lang}"


def sha_of_key(key: str) -> str:
    return key.split(":", 1)[0]


def refresh_index(
    root: Path,
    cache: IndexCache,
    settings: IndexSettings,
    progress: ProgressCallback | None = None,
) -> RefreshResult:
    """Bring the cache up to date with the files under ``root``."""
    t0 = time.perf_counter()
    started_ns = time.time_ns()
    path_filter = PathFilter(settings.exclude_patterns)
    secrets = SecretFilter(settings.secret_patterns)
    found = discover(root, path_filter, secrets)
    prev_rows = cache.file_rows()
    known = cache.blob_skips()
    racy_cutoff = int(cache.get_meta("refreshed_ns") or 0) - _RACY_NS

    stats = RefreshStats(warnings=list(found.warnings))
    skipped: Counter[str] = Counter(found.skipped)
    rows: dict[str, FileRow] = {}
    indexed: dict[str, str] = {}
    jobs: list[tuple[str, str | None]] = []
    for cand in found.candidates:
        sha, size, mtime = cand.sha, cand.size, cand.mtime_ns
        prev = prev_rows.get(cand.path)
        if sha is None:
            if size < 0:
                try:
                    st = os.lstat(root / cand.path)
                except FileNotFoundError:
                    continue  # deleted in the work tree
                except OSError as exc:
                    skipped["unreadable"] += 1
                    stats.warnings.append(f"{cand.path}: cannot read ({exc.strerror or exc})")
                    continue
                if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
                    skipped["symlink" if stat.S_ISLNK(st.st_mode) else "special"] += 1
                    continue
                size, mtime = st.st_size, st.st_mtime_ns
            if prev and prev.size == size and prev.mtime_ns == mtime and mtime < racy_cutoff:
                sha = sha_of_key(prev.sha)
            elif size <= settings.max_file_bytes:
                # Hash it here: content the cache already has (a touched file, a revert,
                # a copy) then needs no parse.
                sha = _hash_file(root / cand.path)
        if sha is not None:
            key = blob_key(sha, cand.path)
            if key in known:
                if size < 0 and prev is not None and prev.sha == key:
                    size, mtime = prev.size, prev.mtime_ns
                rows[cand.path] = FileRow(cand.path, key, size, mtime)
                reason = known[key]
                if reason:
                    skipped[reason] += 1
                else:
                    indexed[cand.path] = key
                continue
        jobs.append((cand.path, sha))

    result = RefreshResult(indexed=indexed, sizes={}, payloads={}, stats=stats)
    new_blobs: list[BlobRow] = []
    for out in _run_parsers(root, jobs, settings, progress):
        if out.warning:
            stats.warnings.append(out.warning)
        if out.sha is None:
            skipped[out.skip or "unreadable"] += 1
            continue
        key = blob_key(out.sha, out.path)
        rows[out.path] = FileRow(out.path, key, out.size, out.mtime_ns)
        if key not in known:
            known[key] = out.skip
            new_blobs.append(BlobRow(key, out.skip, out.payload))
        if out.skip:
            skipped[out.skip] += 1
            continue
        indexed[out.path] = key
        if out.payload is not None:
            result.payloads[key] = out.payload
    stats.reparsed = len(jobs)

    prev_indexed = {p: r.sha for p, r in prev_rows.items() if known.get(r.sha, "?") is None}
    stats.added = sum(p not in prev_indexed for p in indexed)
    stats.changed = sum(p in prev_indexed and prev_indexed[p] != k for p, k in indexed.items())
    stats.removed = sum(p not in indexed for p in prev_indexed)
    stats.unchanged = len(indexed) - stats.added - stats.changed
    stats.files = len(indexed)
    stats.skipped = dict(sorted(skipped.items()))

    upserts = [r for p, r in rows.items() if prev_rows.get(p) != r]
    deletes = [p for p in prev_rows if p not in rows]
    if new_blobs or upserts or deletes:
        cache.commit_refresh(blobs=new_blobs, upsert_files=upserts, delete_paths=deletes,
                             meta={"refreshed_ns": str(started_ns)})
    result.sizes = {p: rows[p].size for p in indexed}
    stats.seconds = round(time.perf_counter() - t0, 4)
    return result


def _hash_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return blob_sha(fh.read())
    except OSError:
        return None  # the parser meets the same problem and reports it


def _run_parsers(
    root: Path, jobs: list[tuple[str, str | None]], settings: IndexSettings,
    progress: ProgressCallback | None,
) -> list[ParseOutcome]:
    total = len(jobs)
    if progress:
        progress(0, total)
    workers = settings.workers or os.cpu_count() or 1
    if total < POOL_MIN_FILES or workers <= 1:
        outcomes = []
        for i, (path, sha) in enumerate(jobs, 1):
            outcomes.append(parse_file(str(root), path, settings.max_file_bytes, settings.encoding, sha))
            if progress and (i % 25 == 0 or i == total):
                progress(i, total)
        return outcomes
    chunks = [jobs[i:i + _CHUNK] for i in range(0, total, _CHUNK)]
    outcomes: list[ParseOutcome] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=_mp_context()) as pool:
        futures = [pool.submit(_parse_chunk, str(root), chunk, settings.max_file_bytes, settings.encoding)
                   for chunk in chunks]
        try:
            for fut in as_completed(futures):
                outcomes.extend(fut.result())
                if progress:
                    progress(len(outcomes), total)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return outcomes


def _parse_chunk(root: str, chunk: list[tuple[str, str | None]], max_bytes: int, encoding: str) -> list[ParseOutcome]:
    return [parse_file(root, path, max_bytes, encoding, sha) for path, sha in chunk]


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds with grammars and tokenizer tables already loaded;
    # it is only safe while this process runs a single thread.
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
