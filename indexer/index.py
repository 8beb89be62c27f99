"""``Index``: the indexer's one entry point (open, refresh, symbols, search, map, pack)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from indexer.cache import SCHEMA_VERSION, IndexCache
from indexer.codec import decode_parsed
from indexer.config import IndexSettings
from indexer.discover import check_not_bare
from indexer.errors import IndexerError
from indexer.graph import RefGraph, build_graph, mentioned_names
from indexer.models import (
    Definition,
    FileInfo,
    ParsedFile,
    Reference,
    RefreshStats,
    RepoMap,
    SearchHit,
    SymbolInfo,
)
from indexer.pack import Pack, PackCandidate, build_pack
from indexer.parse import blob_sha
from indexer.rank import Ranking, rank
from indexer.refresh import ProgressCallback, refresh_index, sha_of_key
from indexer.repomap import fit_map, map_entries
from indexer.search import SearchIndex, terms
from indexer.tokens import TokenCounter, UnknownEncodingError
from indexer.workspace import WorkspaceError, find_project_root, state_dir

log = logging.getLogger("engram.indexer")

CACHE_FILE_NAME = "index.sqlite"
_MAP_CACHE_SIZE = 32
_QUERY_HITS = 30


class Index:
    """A project's index. Open with ``Index.open(path)``; use as a context manager.

    Queries work on the state of the last ``refresh()``; the first query refreshes if this
    object has not yet. Not thread-safe: give each thread its own ``Index``.
    """

    def __init__(self, root: Path, settings: IndexSettings, cache: IndexCache) -> None:
        self.root = root
        self.settings = settings
        self.counter = TokenCounter(settings.encoding)
        self._cache = cache
        self.warnings: list[str] = list(cache.warnings)
        """Problems met while opening (a rebuilt cache); refresh warnings are in its stats."""
        self._paths: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._parsed: dict[str, ParsedFile] = {}
        self._pending: dict[str, bytes] = {}
        """Encoded results of the last refresh, decoded when a query needs them."""
        self._refreshed = False
        self._version = ""
        self._graph: RefGraph | None = None
        self._search: SearchIndex | None = None
        self._maps: dict[tuple, RepoMap] = {}
        for w in self.warnings:
            log.info(w)

    @classmethod
    def open(cls, root: Path | str, settings: IndexSettings | None = None, *,
             cache_path: Path | None = None) -> Index:
        """Open the index of the project containing ``root`` (its git work tree, else ``root``).

        The cache defaults to ``<project>/.engram/index.sqlite``. Raises ``IndexerError``
        with a one-line message for a missing path, a bare repository or an unusable cache.
        """
        settings = settings or IndexSettings()
        try:
            project = find_project_root(root)
        except WorkspaceError as exc:
            raise IndexerError(str(exc)) from exc
        check_not_bare(project)
        try:
            TokenCounter(settings.encoding)
        except UnknownEncodingError as exc:
            raise IndexerError(str(exc)) from exc
        if cache_path is None:
            try:
                cache_path = state_dir(project) / CACHE_FILE_NAME
            except OSError as exc:
                raise IndexerError(f"cannot create {project / '.engram'}: {exc.strerror or exc}") from exc
        cache = IndexCache(Path(cache_path), key=f"{SCHEMA_VERSION}:{settings.encoding}",
                           lock_timeout_s=settings.lock_timeout_s)
        return cls(project, settings, cache)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._cache.close()

    # -- refreshing ----------------------------------------------------------------------
    def refresh(self, progress: ProgressCallback | None = None) -> RefreshStats:
        """Re-read what changed since the last refresh (all of it the first time)."""
        result = refresh_index(self.root, self._cache, self.settings, progress)
        for w in result.stats.warnings:
            log.info(w)
        live = set(result.indexed.values())
        self._parsed = {k: v for k, v in self._parsed.items() if k in live}
        self._pending = {k: v for k, v in {**self._pending, **result.payloads}.items() if k in live}
        version = hashlib.sha1(
            "".join(f"{p}\0{k}\n" for p, k in sorted(result.indexed.items())).encode()
        ).hexdigest()
        if version != self._version:
            self._graph = None
            self._search = None
            self._maps.clear()
        self._paths, self._sizes, self._version = result.indexed, result.sizes, version
        self._refreshed = True
        return result.stats

    @property
    def version(self) -> str:
        """Changes whenever the set of indexed contents changes."""
        self._ensure_loaded()
        return self._version

    def _ensure_loaded(self) -> dict[str, ParsedFile]:
        if not self._refreshed:
            self.refresh()
        missing = {k for k in self._paths.values() if k not in self._parsed}
        for k in missing & self._pending.keys():
            self._parsed[k] = decode_parsed(self._pending.pop(k))
        missing -= self._parsed.keys()
        if missing:
            self._parsed.update(self._cache.load_parsed(missing))
            lost = [p for p, k in self._paths.items() if k not in self._parsed]
            if lost:  # rows whose blob vanished from the cache: leave them out, say so
                self.warnings.append(f"{len(lost)} files missing from the index cache; run refresh")
                for p in lost:
                    del self._paths[p]
        return {p: self._parsed[k] for p, k in self._paths.items()}

    def _graph_of(self, parsed: Mapping[str, ParsedFile]) -> RefGraph:
        if self._graph is None:
            self._graph = build_graph(sorted(parsed), parsed)
        return self._graph

    # -- queries -------------------------------------------------------------------------
    def files(self) -> list[FileInfo]:
        """Every indexed file, by path."""
        parsed = self._ensure_loaded()
        return [
            FileInfo(path=p, language=pf.language, sha=sha_of_key(self._paths[p]),
                     size=self._sizes.get(p, -1), lines=pf.lines, tokens=pf.tokens,
                     skeleton_tokens=pf.skeleton_tokens, symbols=len(pf.defs))
            for p, pf in sorted(parsed.items())
        ]

    def symbols(self, name: str) -> SymbolInfo:
        """Definitions and references of ``name`` (``Class.method`` narrows definitions)."""
        parsed = self._ensure_loaded()
        parts = [p for p in re.split(r"\.|::|#|->", name.strip()) if p]
        base = parts[-1] if parts else ""
        owner = parts[-2] if len(parts) > 1 else None
        defs: list[Definition] = []
        refs: list[Reference] = []
        for path in sorted(parsed):
            pf = parsed[path]
            for d in pf.defs:
                if d.name != base:
                    continue
                parent = pf.defs[d.parent].name if d.parent >= 0 else None
                if owner is not None and parent != owner:
                    continue
                defs.append(Definition(d.name, d.kind, path, d.line, d.end_line,
                                       " ".join(d.header.split()), d.doc, parent))
            refs.extend(Reference(path, line) for line in pf.refs.get(base, ()))
        return SymbolInfo(name=name, definitions=defs, references=refs)

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        """BM25 over identifier-normalized terms; exact symbol names rank first."""
        parsed = self._ensure_loaded()
        if self._search is None:
            self._search = SearchIndex(sorted(parsed), parsed)
        return self._search.search(query, k)

    def repo_map(self, budget_tokens: int, focus: Sequence[str] = (), query: str | None = None) -> RepoMap:
        """Outlines of the most relevant definitions, at most ``budget_tokens`` tokens.

        ``focus``: files or folders (relative to the project, or absolute) to centre on;
        ``query``: free text whose names and words steer the ranking.
        """
        parsed = self._ensure_loaded()
        focus_paths = tuple(sorted(self._resolve_focus(focus, parsed)))
        key = (self._version, focus_paths, query or "", int(budget_tokens))
        cached = self._maps.get(key)
        if cached is not None:
            return cached
        graph = self._graph_of(parsed)
        ranking = self._rank(graph, parsed, focus_paths, query)
        result = fit_map(map_entries(graph, ranking, parsed), parsed, self.counter, int(budget_tokens))
        if len(self._maps) >= _MAP_CACHE_SIZE:
            self._maps.pop(next(iter(self._maps)))
        self._maps[key] = result
        return result

    def pack(self, query: str | None, budget_tokens: int) -> Pack:
        """The most relevant files in full, outlines for the rest, within ``budget_tokens``
        (the whole repository when it fits). Token counts are exact."""
        parsed = self._ensure_loaded()
        graph = self._graph_of(parsed)
        ranking = self._rank(graph, parsed, (), query)
        order = sorted(range(graph.n_files), key=lambda i: (-ranking.file_rank[i], graph.files[i]))
        ranked = [
            PackCandidate(graph.files[i], parsed[graph.files[i]].language, parsed[graph.files[i]].tokens,
                          parsed[graph.files[i]].skeleton_tokens, parsed[graph.files[i]].skeleton)
            for i in order
        ]
        return build_pack(self.root.name, query, int(budget_tokens), ranked, self._read_full,
                          self.counter, len(ranked))

    # -- helpers -------------------------------------------------------------------------
    def _rank(self, graph: RefGraph, parsed: Mapping[str, ParsedFile], focus: Sequence[str],
              query: str | None) -> Ranking:
        weights: dict[int, float] = {}
        focus_idx = frozenset(graph.file_index[p] for p in focus if p in graph.file_index)
        for i in focus_idx:
            weights[i] = weights.get(i, 0.0) + 1.0
        mentioned: frozenset[int] = frozenset()
        if query:
            names = mentioned_names(query, graph.ident_index)
            mentioned = frozenset(graph.ident_index[n] for n in names)
            words = set(terms(query))
            for i, path in enumerate(graph.files):
                stem = Path(path).stem.lower()
                if stem in words or path.lower() in query.lower():
                    weights[i] = weights.get(i, 0.0) + 1.0
            hits = self.search(query, _QUERY_HITS)
            best = max((h.score for h in hits), default=0.0) or 1.0
            for h in hits:
                i = graph.file_index.get(h.path)
                if i is not None:
                    weights[i] = weights.get(i, 0.0) + 0.5 * min(h.score, best) / best
        return rank(graph, weights, focus_idx, mentioned)

    def _resolve_focus(self, focus: Sequence[str], parsed: Mapping[str, ParsedFile]) -> set[str]:
        out: set[str] = set()
        for item in focus:
            p = Path(item)
            if p.is_absolute():
                try:
                    p = p.resolve().relative_to(self.root)
                except ValueError:
                    continue
            rel = p.as_posix().strip("/")
            if rel in ("", "."):
                continue
            if rel in parsed:
                out.add(rel)
            else:
                prefix = rel + "/"
                out.update(q for q in parsed if q.startswith(prefix))
        return out

    def _read_full(self, cand: PackCandidate) -> tuple[str, int] | None:
        """A file's current text and exact tokens; None if it is gone or no longer a file."""
        full = self.root / cand.path
        try:
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                return None
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        text = data.decode("utf-8", errors="replace")
        text = text.removeprefix("\ufeff")
        if blob_sha(data) == sha_of_key(self._paths.get(cand.path, "")):
            return text, cand.full_tokens
        return text, self.counter.count(text)  # edited since the refresh
