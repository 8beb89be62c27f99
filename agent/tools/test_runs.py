"""Running the project's tests for the loop: targeted tests first, then the whole suite."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from agent.tools.py_imports import ImportGraph
from agent.tools.targeted import appends_test_files, command_tokens, parse_unittest
from agent.tools.test_output import EventSink, TestOutputBatcher
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


@dataclass(frozen=True)
class TargetedRun:
    """How to run the tests that touch the edited files."""

    runner: TestRunner
    ids: list[str]
    tests: list[str]
    """The test files chosen."""
    env: dict[str, str] | None = None


class TestRuns:
    """Runs tests through the sandbox's ``TestRunner``; never raises for a failing run."""

    __test__ = False

    def __init__(self, runner: TestRunner, excerpt_chars: int, timeout: float | None) -> None:
        self.runner = runner
        self.excerpt_chars = excerpt_chars
        self.timeout = timeout
        self.imports = ImportGraph(runner.root)

    def supports_subset(self) -> bool:
        """Whether the test command can run a subset: pytest taking test files as arguments,
        or ``python -m unittest`` (discover or bare) taking module names."""
        try:
            cmd = self.runner.detect()
        except NoTestCommand:
            return False
        tokens = command_tokens(cmd)
        return appends_test_files(cmd) or (tokens is not None and parse_unittest(tokens) is not None)

    def targeted(self, edited: list[str], all_files: list[str]) -> TargetedRun | None:
        """The targeted run for ``edited``, or None (unknown command, no related test, or
        every test is related: then the suite runs straight away)."""
        try:
            cmd = self.runner.detect()
        except NoTestCommand:
            return None
        py_files = [f for f in all_files if f.endswith(".py")]
        if appends_test_files(cmd):
            tests = [f for f in all_files if _is_test(PurePosixPath(f))]
            chosen = self._related(edited, all_files, tests, py_files, ())
            return TargetedRun(self.runner, chosen, chosen) if 0 < len(chosen) < len(tests) else None
        tokens = command_tokens(cmd)
        unittest = parse_unittest(tokens) if tokens is not None else None
        if unittest is None:
            return None
        tests = [f for f in py_files if unittest.discovers(f)]
        chosen = [t for t in self._related(edited, all_files, tests, py_files,
                                           (unittest.start, unittest.top))
                  if unittest.module_of(t) is not None]
        if not 0 < len(chosen) < len(tests):
            return None
        command = unittest.command_for([unittest.module_of(t) or "" for t in chosen])
        env = dict(cmd.env)
        if unittest.top != ".":  # the modules are named from the top-level folder
            paths = [str(self.runner.root / unittest.top), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = ":".join(p for p in paths if p)
        runner = TestRunner(self.runner.sandbox, self.runner.root, command=command)
        return TargetedRun(runner, [], chosen, env or None)

    def _related(self, edited: list[str], all_files: list[str], tests: list[str],
                 py_files: list[str], roots: tuple[str, ...]) -> list[str]:
        """Tests named after or editing the edited files, and tests whose imports reach them."""
        wanted = set(related_tests(edited, all_files))
        wanted.update(self.imports.importers(edited, tests, py_files, roots))
        return [t for t in tests if t in wanted]

    async def run(self, ids: list[str], scope: Scope, *, sink: EventSink | None = None) -> TestOutcome:
        """Run the tests named by ``ids`` (all when empty); with ``sink``, their output goes
        there as ``TestOutput`` events while they run (the last batch before this returns)."""
        return await self._run(self.runner, ids, scope, sink)

    async def _run(self, runner: TestRunner, ids: list[str], scope: Scope,
                   sink: EventSink | None, env: dict[str, str] | None = None) -> TestOutcome:
        batcher = None
        try:
            if sink is not None:
                batcher = TestOutputBatcher(runner.detect().describe(), scope, sink)
            report = await runner.arun(ids, timeout=self.timeout, env=env,
                                       on_output=batcher.on_output if batcher else None)
        except NoTestCommand as exc:
            return TestOutcome(scope, None, "none", f"no tests to run: {exc}")
        except SandboxError as exc:
            return TestOutcome(scope, None, "red", f"the tests could not run: {exc}")
        finally:
            if batcher is not None:
                batcher.close()
        state: Literal["green", "red"] = "green" if report.ok else "red"
        return TestOutcome(scope, report, state, report.for_model(self.excerpt_chars), report.command)

    async def after_edits(self, edited: list[str], all_files: list[str], targeted_first: bool,
                          *, sink: EventSink | None = None) -> list[TestOutcome]:
        """Targeted tests (when the command can run a subset and some relate to the edits),
        then the suite if they pass."""
        outcomes: list[TestOutcome] = []
        plan = self.targeted(edited, all_files) if targeted_first else None
        if plan is not None:
            first = await self._run(plan.runner, plan.ids, "targeted", sink, plan.env)
            outcomes.append(first)
            if first.state != "green":
                return outcomes
        outcomes.append(await self.run([], "suite", sink=sink))
        return outcomes
