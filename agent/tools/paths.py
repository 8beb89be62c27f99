"""Which repository paths the tools may touch: inside the root, not .git/.engram, not secrets."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from indexer.secrets import SecretFilter

PROTECTED_DIRS = (".git", ".engram")


class ToolInputError(ValueError):
    """A tool call the loop refuses; the message goes back to the model."""


def repo_relative(root: Path, path: str, secrets: SecretFilter) -> str:
    """``path`` as a clean ``/``-separated repository-relative path, or ``ToolInputError``."""
    raw = path.strip().strip("`'\"")
    if not raw:
        raise ToolInputError("empty path")
    candidate = Path(raw)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(root)
        except ValueError:
            raise ToolInputError(f"{raw}: outside the repository") from None
    rel = PurePosixPath(candidate.as_posix())
    if any(part == ".." for part in rel.parts):
        raise ToolInputError(f"{raw}: '..' leaves the repository")
    full = (root / rel).resolve()
    if full != root and root not in full.parents:
        raise ToolInputError(f"{raw}: outside the repository (through a link)")
    rel_text = full.relative_to(root).as_posix()
    if rel_text.split("/", 1)[0] in PROTECTED_DIRS:
        raise ToolInputError(f"{raw}: inside {rel_text.split('/', 1)[0]}/, which the agent never touches")
    if secrets.is_secret(rel_text):
        raise ToolInputError(f"{raw}: a secret file; it is never read into a prompt")
    return rel_text
