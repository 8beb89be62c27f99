"""Typed errors of the edit core; each message is one line a person or a model can act on."""

from __future__ import annotations

from dataclasses import dataclass


class EditError(Exception):
    """Base of every error raised while parsing, resolving or applying edits."""


class EditBlockParseError(EditError):
    """Model text holds a search/replace block that cannot be read."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        """1-based line of the model text where the problem was found."""


class PathRefusedError(EditError):
    """A path the agent may not write (base of the path errors below)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path


class PathOutsideRepoError(PathRefusedError):
    """The path is absolute, climbs out with ``..``, or leads outside through a symlink."""


class ProtectedPathError(PathRefusedError):
    """The path is inside ``.git/`` or ``.engram/``, which the agent never edits."""


class SecretFileError(PathRefusedError):
    """The path names a secret file (``.env``, keys, credentials); never read or written."""


class StaleFileError(EditError):
    """A file changed on disk after the edit was planned against it."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: changed on disk since it was read ({detail}); read it again")
        self.path = path


class InvalidEditSetError(EditError):
    """An edit set that cannot be applied as given (e.g. two changes to one file)."""


class ApplyError(EditError):
    """Writing the files failed; every file was put back as it was."""


@dataclass(frozen=True)
class SyntaxProblem:
    """One syntax error that an edit set would introduce."""

    path: str
    line: int
    """1-based."""
    column: int
    """1-based."""
    message: str
    snippet: str
    """The offending source line, stripped."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}: {self.snippet}"


class SyntaxCheckError(EditError):
    """The edit set would introduce syntax errors; nothing was written (or all was rolled back)."""

    def __init__(self, problems: list[SyntaxProblem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"edit set rolled back: it introduces a syntax error at {first}{more}")
        self.problems = problems
