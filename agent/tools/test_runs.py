"""Running the project's tests for the loop: targeted tests first, then the whole suite."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from runtime.sandbox import NoTestCommand, SandboxError, TestReport, TestRunner

Scope = Literal["targeted", "suite"]


@dataclass(frozen=True)
class TestOutcome:
    """One test run, or the fact that the project has no tests."""

    __test__ = False

    scope: Scope
    report: TestReport | None
    """None when no test command exists (``state == "none"``) or the run could not start."""
    state: Literal["green", "red", "none"]
    text: str
    """What the model reads."""
    command: str = ""

    @property
    def failing(self) -> list[str]:
        return [] if self.report is None else [*self.report.failed, *self.report.errored]


def related_tests(edited: Iterable[str], all_files: Iterable[str]) -> list[str]:
    """Test files that touch the edited files: edited tests themselves, and tests named after
    an edited module (``test_<stem>.py``, ``<stem>_test.py``, ``<stem>.test.ts``, ...)."""
    files = list(all_files)
    out: list[str] = []
    for path in edited:
        p = PurePosixPath(path)
        if _is_test(p) and path in files:
            out.append(path)
            continue
        stem = p.stem
        for other in files:
            q = PurePosixPath(other)
            if _is_test(q) and stem in (q.stem.removeprefix("test_"), q.stem.removesuffix("_test"),
                                        q.name.split(".")[0]):
                out.append(other)
    return list(dict.fromkeys(out))


def _is_test(p: PurePosixPath) -> bool:
    name = p.name
    return (name.startswith("test_") or p.stem.endswith("_test") or ".test." in name
            or ".spec." in name or "tests" in p.parts[:-1])


class TestRuns:
    """Runs tests through the sandbox's ``TestRunner``; never raises for a failing run."""

    __test__ = False

    def __init__(self, runner: TestRunner, excerpt_chars: int, timeout: float | None) -> None:
        self.runner = runner
        self.excerpt_chars = excerpt_chars
        self.timeout = timeout

    def supports_subset(self) -> bool:
        """Only argv-based runners that take test files as arguments run a subset reliably."""
        try:
            cmd = self.runner.detect()
        except NoTestCommand:
            return False
        return cmd.shell is None and cmd.subset_style == "append" and cmd.framework == "pytest"

    async def run(self, ids: list[str], scope: Scope) -> TestOutcome:
        try:
            report = await self.runner.arun(ids, timeout=self.timeout)
        except NoTestCommand as exc:
            return TestOutcome(scope, None, "none", f"no tests to run: {exc}")
        except SandboxError as exc:
            return TestOutcome(scope, None, "red", f"the tests could not run: {exc}")
        state: Literal["green", "red"] = "green" if report.ok else "red"
        return TestOutcome(scope, report, state, report.for_model(self.excerpt_chars), report.command)

    async def after_edits(self, edited: list[str], all_files: list[str],
                          targeted_first: bool) -> list[TestOutcome]:
        """Targeted tests (when the runner can and some exist), then the suite if they pass."""
        outcomes: list[TestOutcome] = []
        if targeted_first and self.supports_subset():
            targets = related_tests(edited, all_files)
            if targets:
                first = await self.run(targets, "targeted")
                outcomes.append(first)
                if first.state != "green":
                    return outcomes
        outcomes.append(await self.run([], "suite"))
        return outcomes
