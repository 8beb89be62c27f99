"""Finds a project's test command from its files, and knows how to run a subset of it."""

from __future__ import annotations

import configparser
import importlib.util
import json
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

Framework = Literal["pytest", "unittest", "go", "cargo", "jest", "vitest", "make", "npm", "other"]

PYTEST_FLAGS = ("-q", "-rfEsxXp", "--tb=short", "--color=no")
_NPM_PLACEHOLDER = "no test specified"


class NoTestCommand(Exception):
    """No test command could be found; the message says what was looked for."""


@dataclass(frozen=True)
class TestCommand:
    """How to run a project's tests: all of them, or the given ids."""

    __test__ = False  # not a pytest test class, despite the name

    framework: Framework
    argv: tuple[str, ...] = ()
    shell: str | None = None
    """A shell command line (from the settings); used instead of ``argv`` when set."""
    env: dict[str, str] = field(default_factory=dict)
    subset_style: Literal["append", "append_after_dashdash", "go_run", "unittest", "none"] = "append"

    def for_ids(self, ids: Sequence[str]) -> tuple[list[str] | str, bool]:
        """``(command, shell)`` for ``Sandbox.run``, narrowed to ``ids`` when given."""
        ids = [i for i in ids if i]
        if self.shell is not None:
            return (" ".join([self.shell, *map(shlex.quote, ids)]), True)
        argv = list(self.argv)
        if not ids or self.subset_style == "none":
            return argv, False
        if self.subset_style == "go_run":
            pkgs = [i for i in ids if i.startswith((".", "/")) or i.endswith("...")]
            names = [i.split("/")[0] for i in ids if i not in pkgs]
            argv = [a for a in argv if not (pkgs and a == "./...")]
            if names:
                argv += ["-run", "^(" + "|".join(re.escape(n) for n in dict.fromkeys(names)) + ")$"]
            return argv + pkgs, False
        if self.subset_style == "unittest":
            if "discover" in argv:
                argv = argv[: argv.index("discover")] + ["-v"]
            return argv + [_unittest_name(i) for i in ids], False
        if self.subset_style == "append_after_dashdash":
            return argv + ["--", *ids], False
        return argv + ids, False

    def describe(self) -> str:
        return self.shell if self.shell is not None else shlex.join(self.argv)


def _unittest_name(test_id: str) -> str:
    if test_id.endswith(".py"):
        return test_id[:-3].replace("/", ".")
    return test_id


def framework_of(command: str) -> Framework:
    """Guess which runner a command line invokes (to choose its parser)."""
    for needle, name in (("pytest", "pytest"), ("unittest", "unittest"), ("go test", "go"),
                         ("cargo test", "cargo"), ("vitest", "vitest"), ("jest", "jest"),
                         ("make", "make")):
        if needle in command:
            return name  # type: ignore[return-value]
    return "other"


def python_for(root: Path) -> str:
    """The project's virtualenv interpreter when it has one, else this interpreter."""
    for venv in (".venv", "venv", "env"):
        candidate = root / venv / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable


def detect(root: Path, override: str | None = None) -> TestCommand:
    """The test command of the project at ``root``; ``override`` (settings, memory) wins."""
    if override:
        return TestCommand(framework=framework_of(override), shell=override)
    python = python_for(root)
    if _has_pytest_config(root):
        return TestCommand("pytest", (python, "-m", "pytest", *PYTEST_FLAGS))
    if (root / "go.mod").is_file():
        return TestCommand("go", ("go", "test", "-v", "./..."), subset_style="go_run")
    if (root / "Cargo.toml").is_file():
        return TestCommand("cargo", ("cargo", "test"), subset_style="append_after_dashdash")
    js = _js_command(root)
    if js is not None:
        return js
    if _has_make_test(root):
        return TestCommand("make", ("make", "test"), subset_style="none")
    if _python_test_files(root):
        if python != sys.executable or importlib.util.find_spec("pytest") is not None:
            return TestCommand("pytest", (python, "-m", "pytest", *PYTEST_FLAGS))
        start = "tests" if (root / "tests").is_dir() else "."
        env = {"PYTHONPATH": str(root / start)} if start != "." else {}
        return TestCommand("unittest", (python, "-m", "unittest", "discover", "-v", "-s", start),
                           env=env, subset_style="unittest")
    raise NoTestCommand(
        f"no test command found in {root} (looked for pytest/unittest tests, package.json "
        "scripts.test, go.mod, Cargo.toml, a Makefile test target); set test_command in "
        "the [sandbox] table of .engram/config.toml")


def _has_pytest_config(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        if "pytest" in data.get("tool", {}):
            return True
    for name, section in (("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if parser.has_section(section):
                return True
    return False


def _js_command(root: Path) -> TestCommand | None:
    package = root / "package.json"
    if not package.is_file():
        return None
    try:
        script = json.loads(package.read_text(encoding="utf-8")).get("scripts", {}).get("test")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(script, str) or not script.strip() or _NPM_PLACEHOLDER in script:
        return None
    framework: Framework = "vitest" if "vitest" in script else "jest" if "jest" in script else "npm"
    if (root / "pnpm-lock.yaml").is_file():
        return TestCommand(framework, ("pnpm", "test"))
    if (root / "yarn.lock").is_file():
        return TestCommand(framework, ("yarn", "test"))
    return TestCommand(framework, ("npm", "test", "--silent"), subset_style="append_after_dashdash")


def _has_make_test(root: Path) -> bool:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        path = root / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return False
            return re.search(r"^test\s*:", text, re.MULTILINE) is not None
    return False


def _python_test_files(root: Path) -> bool:
    for folder in (root, root / "tests", root / "test"):
        if folder.is_dir() and (any(folder.glob("test_*.py")) or any(folder.glob("*_test.py"))):
            return True
    return False
