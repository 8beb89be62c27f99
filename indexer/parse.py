"""Read one file and turn it into a ``ParsedFile`` (or a reason to leave it out).

``parse_file`` is what the process pool runs: it takes plain arguments, returns a compact
picklable ``ParseOutcome``, and never raises for bad input (missing, unreadable, binary,
non-UTF-8 or unparsable files all come back as outcomes).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from functools import lru_cache

from indexer.codec import encode_parsed
from indexer.filters import looks_binary, looks_minified
from indexer.languages import language_for
from indexer.models import DefTag, ParsedFile
from indexer.skeleton import skeleton_text
from indexer.tags import extract_tags
from indexer.tokens import TokenCounter


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """The result of looking at one file."""

    path: str
    sha: str | None
    """Git blob SHA of the bytes that were read (None when nothing could be read)."""
    payload: bytes | None
    """The encoded ``ParsedFile`` (see ``codec.py``); None when skipped."""
    skip: str | None = None
    """Why the file is left out: binary, too-large, generated, symlink, vanished, unreadable."""
    size: int = 0
    mtime_ns: int = 0
    warning: str | None = None


def blob_sha(data: bytes) -> str:
    """The SHA git gives this content (``git hash-object``)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=4)
def _counter(encoding: str) -> TokenCounter:
    return TokenCounter(encoding)


def parse_file(root: str, rel: str, max_bytes: int, encoding: str, known_sha: str | None = None) -> ParseOutcome:
    """Read ``root/rel`` and parse it; ``known_sha`` lets an oversized file skip the read."""
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return ParseOutcome(rel, None, None, "vanished", warning=f"{rel}: vanished during indexing")
    except OSError as exc:
        return ParseOutcome(rel, None, None, "unreadable", warning=f"{rel}: cannot read ({exc.strerror or exc})")
    if stat.S_ISLNK(st.st_mode):
        return ParseOutcome(rel, None, None, "symlink")
    if not stat.S_ISREG(st.st_mode):
        return ParseOutcome(rel, None, None, "special")
    if st.st_size > max_bytes:
        return ParseOutcome(rel, known_sha, None, "too-large", st.st_size, st.st_mtime_ns)
    try:
        with open(full, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        return ParseOutcome(rel, None, None, "vanished", warning=f"{rel}: vanished during indexing")
    except OSError as exc:
        return ParseOutcome(rel, None, None, "unreadable", warning=f"{rel}: cannot read ({exc.strerror or exc})")
    if len(data) > max_bytes:  # it grew after the stat
        return ParseOutcome(rel, None, None, "too-large", len(data), st.st_mtime_ns)
    sha = blob_sha(data)
    if looks_binary(data):
        return ParseOutcome(rel, sha, None, "binary", len(data), st.st_mtime_ns)
    parsed, warning = parse_bytes(rel, data, encoding)
    if parsed is None:
        return ParseOutcome(rel, sha, None, "generated", len(data), st.st_mtime_ns)
    return ParseOutcome(rel, sha, encode_parsed(parsed), None, len(data), st.st_mtime_ns, warning)


def parse_bytes(rel: str, data: bytes, encoding: str) -> tuple[ParsedFile | None, str | None]:
    """Parse file content; None for a minified bundle. Returns a warning for odd input."""
    warning = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        warning = f"{rel}: not UTF-8; undecodable bytes shown as U+FFFD"
    text = text.removeprefix("\ufeff")
    if looks_minified(text):
        return None, None
    counter = _counter(encoding)
    language = language_for(rel, data[:128])
    defs: tuple[DefTag, ...] = ()
    refs: dict[str, tuple[int, ...]] = {}
    syntax_errors = False
    if language is not None:
        source = data if warning is None else text.encode("utf-8")
        tags = extract_tags(language, source)
        defs = tuple(
            DefTag(d.name, d.kind, d.line, d.end_line, d.header, d.doc, d.parent) for d in tags.defs
        )
        refs = {name: tuple(rows) for name, rows in tags.refs.items()}
        syntax_errors = tags.syntax_errors
    skeleton = skeleton_text(defs)
    n_lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    parsed = ParsedFile(
        language=language,
        lines=n_lines,
        tokens=counter.count(text),
        skeleton=skeleton,
        skeleton_tokens=counter.count(skeleton),
        defs=defs,
        refs=refs,
        syntax_errors=syntax_errors,
    )
    return parsed, warning


def read_text(path: str) -> str:
    """A file's text as the index sees it (UTF-8, undecodable bytes replaced, no BOM)."""
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")
