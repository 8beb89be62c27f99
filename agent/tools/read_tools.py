"""The read-only tools: read a file, list files, search code, find a symbol."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from agent.tools.paths import ToolInputError, repo_relative
from indexer import Index
from indexer.secrets import SecretFilter

MAX_LIST = 400
_BINARY_SNIFF = 8192


class ReadTools:
    """Read access to one repository for the model; every path is checked first."""

    def __init__(self, root: Path, index: Index, secrets: SecretFilter) -> None:
        self.root = root
        self.index = index
        self.secrets = secrets

    def read_file(self, path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        rel = repo_relative(self.root, path, self.secrets)
        full = self.root / rel
        if not full.is_file():
            raise ToolInputError(f"{rel}: no such file" + self._near(rel))
        data = full.read_bytes()
        if b"\0" in data[:_BINARY_SNIFF]:
            raise ToolInputError(f"{rel}: a binary file ({len(data)} bytes)")
        lines = data.decode("utf-8", errors="replace").splitlines()
        first = max(1, start_line or 1)
        last = min(len(lines), end_line or len(lines))
        if lines and first > last:
            raise ToolInputError(f"{rel}: lines {first}-{last} are empty; the file has {len(lines)} lines")
        body = "\n".join(lines[first - 1:last])
        whole = first == 1 and last == len(lines)
        head = f"{rel} ({len(lines)} lines)" if whole else f"{rel} lines {first}-{last} of {len(lines)}"
        return f"{head}:\n{body}"

    def list_files(self, folder: str = "", pattern: str | None = None) -> str:
        prefix = ""
        if folder.strip() not in ("", ".", "/"):
            prefix = repo_relative(self.root, folder, self.secrets).rstrip("/") + "/"
        paths = [f.path for f in self.index.files() if f.path.startswith(prefix)]
        if pattern:
            paths = [p for p in paths if fnmatch.fnmatch(p.rsplit("/", 1)[-1], pattern)
                     or fnmatch.fnmatch(p, pattern)]
        if not paths:
            return f"no files under '{prefix or '.'}'" + (f" matching {pattern}" if pattern else "")
        shown = paths[:MAX_LIST]
        more = f"\n... and {len(paths) - MAX_LIST} more" if len(paths) > MAX_LIST else ""
        return f"{len(paths)} files:\n" + "\n".join(shown) + more

    def search_code(self, query: str, k: int = 10) -> str:
        if not query.strip():
            raise ToolInputError("empty query")
        hits = self.index.search(query, k)
        if not hits:
            return f"no matches for {query!r}"
        rows = []
        for h in hits:
            what = f" {h.kind} {h.symbol}" if h.symbol else ""
            snippet = "\n".join("    " + ln for ln in h.snippet.splitlines()[:6])
            rows.append(f"{h.path}:{h.line}{what}\n{snippet}")
        return "\n".join(rows)

    def find_symbol(self, name: str) -> str:
        if not name.strip():
            raise ToolInputError("empty symbol name")
        info = self.index.symbols(name)
        if not info.definitions and not info.references:
            return f"no definition or use of {name!r} found"
        rows = [f"definitions of {name}:"] if info.definitions else [f"{name}: no definition found"]
        rows += [f"  {d.path}:{d.line}-{d.end_line} {d.kind} {d.signature}" for d in info.definitions]
        if info.references:
            refs = info.references[:50]
            rows.append(f"used at ({len(info.references)}):")
            rows += [f"  {r.path}:{r.line}" for r in refs]
        return "\n".join(rows)

    def _near(self, rel: str) -> str:
        name = rel.rsplit("/", 1)[-1]
        near = [f.path for f in self.index.files() if f.path.rsplit("/", 1)[-1] == name][:5]
        return f" (did you mean {', '.join(near)}?)" if near else ""
