"""What the index leaves out: vendored and generated files, binaries, oversized files.

Path rules run before a file is read (cheap, decided from the name); content rules run on
the bytes the parser is about to see.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from pathspec import GitIgnoreSpec

# Folders of third-party or tool-made code: large, not the project's own, and noise for
# ranking. Matched at any depth.
VENDORED_DIRS = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "third_party",
    "thirdparty", ".venv", "venv", "site-packages", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".git", ".hg", ".svn", ".engram",
    ".idea", ".gradle", ".next", ".nuxt", ".cache", ".terraform",
})

GENERATED_PATTERNS: tuple[str, ...] = (
    # lock files
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "Cargo.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "composer.lock",
    "Gemfile.lock", "go.sum", "packages.lock.json", "*.lock",
    # minified bundles and source maps
    "*.min.js", "*.min.mjs", "*.min.css", "*.map", "*.bundle.js", "*-bundle.js",
    # generated code
    "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h", "*.g.cs",
    "*.designer.cs", "*.generated.*",
    # binary-ish formats that may slip past the NUL check
    "*.svg", "*.pdf", "*.ipynb",
)

BINARY_SNIFF_BYTES = 8192
_MINIFIED_LINE_CHARS = 1000


class PatternSet:
    """Gitignore-style patterns, matched fast.

    Patterns without a slash (``*.pem``, ``.env.*``) only look at the file name, so they are
    folded into one regular expression; the rest, and any list with a ``!`` negation, go
    through pathspec's full gitignore rules.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        patterns = [p.strip() for p in patterns if p.strip() and not p.lstrip().startswith("#")]
        negated = any(p.startswith("!") for p in patterns)
        simple = [] if negated else [p for p in patterns if "/" not in p]
        rest = [p for p in patterns if p not in simple]
        self._names = re.compile("|".join(fnmatch.translate(p) for p in simple)) if simple else None
        self._spec = GitIgnoreSpec.from_lines(rest) if rest else None

    def match(self, rel_path: str) -> bool:
        if self._names is not None and self._names.match(rel_path.rpartition("/")[2]):
            return True
        return self._spec is not None and self._spec.match_file(rel_path)


class PathFilter:
    """Path rules: vendored folders, generated files and the user's exclude patterns."""

    def __init__(self, exclude_patterns: Sequence[str] = ()) -> None:
        self._generated = PatternSet(GENERATED_PATTERNS)
        self._excluded = PatternSet(exclude_patterns)

    def reason(self, rel_path: str) -> str | None:
        """Why the path is left out (``vendored``, ``generated``, ``excluded``), or None."""
        parts = PurePosixPath(rel_path).parts
        if any(part in VENDORED_DIRS for part in parts[:-1]):
            return "vendored"
        if self._generated.match(rel_path):
            return "generated"
        if self._excluded.match(rel_path):
            return "excluded"
        return None

    def prune_dir(self, name: str) -> bool:
        """Whether a folder walk should not descend into ``name``."""
        return name in VENDORED_DIRS


def looks_binary(data: bytes) -> bool:
    """Git's own rule: a NUL byte in the first 8 KiB."""
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def looks_minified(text: str) -> bool:
    """A bundle squeezed onto a few enormous lines."""
    if len(text) < 4 * _MINIFIED_LINE_CHARS:
        return False
    lines = text.count("\n") + 1
    return len(text) / lines > _MINIFIED_LINE_CHARS // 2 and any(
        len(line) > _MINIFIED_LINE_CHARS for line in text.split("\n", 50)[:50]
    )
