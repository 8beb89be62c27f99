"""How to run only the tests that touch the edited files, for the project's test command.

- pytest (detected argv, or a plain ``pytest ...`` command line in the settings): the test
  files are appended to the command.
- ``python -m unittest`` (``discover`` with its ``-s``/``-t`` options, or bare): the test
  modules are named on a ``python -m unittest mod ...`` command line, importable from the
  discovery's top-level folder.
- Anything else (a shell pipeline, ``make test``, ``npm test``, unittest given explicit
  names): no targeted run; the caller runs the suite.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from runtime.sandbox import TestCommand

_PYTHON = re.compile(r"(^|/)python[\d.]*$")
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_OPERATORS = frozenset(";&|<>()`$\n")
# unittest options: those that take a value, and flags worth keeping on a targeted run
_UT_VALUE_OPTS = {"-k": True, "-s": False, "--start-directory": False, "-t": False,
                  "--top-level-directory": False, "-p": False, "--pattern": False,
                  "--durations": True}
_UT_FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet", "-f", "--failfast", "-c", "--catch",
                       "-b", "--buffer", "--locals"})


@dataclass(frozen=True)
class UnittestCommand:
    """A ``python -m unittest`` command line, taken apart."""

    head: list[str]
    """Environment assignments, the interpreter and its flags, ``-m unittest``."""
    options: list[str] = field(default_factory=list)
    """Options kept on a targeted run (verbosity, ``-k``, ...)."""
    start: str = "."
    top: str = "."
    pattern: str = "test*.py"

    def discovers(self, path: str) -> bool:
        """Whether discovery runs ``path`` (under the start folder, name matching)."""
        p = PurePosixPath(path)
        inside = self.start == "." or PurePosixPath(self.start) in p.parents
        return inside and p.suffix == ".py" and fnmatch.fnmatch(p.name, self.pattern)

    def module_of(self, test_file: str) -> str | None:
        """The dotted name ``test_file`` is imported by, from the top-level folder."""
        path = PurePosixPath(test_file)
        top = PurePosixPath(self.top)
        if self.top not in (".", ""):
            if top not in path.parents:
                return None
            path = path.relative_to(top)
        parts = [*path.parent.parts, path.stem] if path.parent.as_posix() != "." else [path.stem]
        if path.suffix != ".py" or not all(p.isidentifier() for p in parts):
            return None
        return ".".join(parts)

    def command_for(self, modules: list[str]) -> str:
        return shlex.join([*self.head, *self.options, *modules])


def parse_unittest(tokens: list[str]) -> UnittestCommand | None:
    """``tokens`` (a command line split like a shell would) as a unittest run, or None."""
    i = 0
    while i < len(tokens) and _ENV_ASSIGN.match(tokens[i]):
        i += 1
    if i >= len(tokens) or not _PYTHON.search(tokens[i]):
        return None
    i += 1
    while i < len(tokens) and tokens[i].startswith("-") and tokens[i] not in ("-m", "-c"):
        if tokens[i] in ("-W", "-X"):  # flags with a value
            i += 1
        i += 1
    if tokens[i:i + 2] != ["-m", "unittest"]:
        return None
    head, rest = tokens[:i + 2], tokens[i + 2:]
    discover = bool(rest) and rest[0] == "discover"
    if discover:
        rest = rest[1:]
    options: list[str] = []
    values: dict[str, str] = {}
    positional: list[str] = []
    j = 0
    while j < len(rest):
        tok = rest[j]
        name, eq, inline = tok.partition("=")
        if name in _UT_VALUE_OPTS:
            value = inline if eq else (rest[j + 1] if j + 1 < len(rest) else None)
            if value is None:
                return None
            j += 1 if eq else 2
            if _UT_VALUE_OPTS[name]:
                options += [name, value]
            else:  # -s/--start-directory -> "s", -t/... -> "t", -p/--pattern -> "p"
                values[name.lstrip("-")[0]] = value
            continue
        if tok in _UT_FLAGS:
            options.append(tok)
        elif tok.startswith("-"):
            return None  # an option we do not know how to carry over
        else:
            positional.append(tok)
        j += 1
    if positional and not discover:
        return None  # explicit test names: the project chose what runs
    start = values.get("s") or (positional[0] if positional else ".")
    pattern = values.get("p") or (positional[1] if len(positional) > 1 else "test*.py")
    top = values.get("t") or (positional[2] if len(positional) > 2 else start)
    return UnittestCommand(head=head, options=options, start=_clean(start), top=_clean(top),
                           pattern=pattern)


def _clean(folder: str) -> str:
    text = PurePosixPath(folder).as_posix()
    return "." if text in ("", ".", "./") else text.removeprefix("./").rstrip("/")


def command_tokens(cmd: TestCommand) -> list[str] | None:
    """The command split into words, or None when it is a shell construct we cannot narrow."""
    if cmd.shell is None:
        return list(cmd.argv)
    if any(ch in _SHELL_OPERATORS for ch in cmd.shell):
        return None
    try:
        return shlex.split(cmd.shell)
    except ValueError:
        return None


def appends_test_files(cmd: TestCommand) -> bool:
    """A pytest command that takes test files as extra arguments."""
    if cmd.framework != "pytest" or cmd.subset_style != "append":
        return False
    return cmd.shell is None or command_tokens(cmd) is not None
