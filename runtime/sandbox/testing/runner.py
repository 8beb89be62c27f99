"""``TestRunner``: runs a project's tests (all or some) in its sandbox and parses them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from runtime.sandbox.capture import OutputCallback
from runtime.sandbox.result import RunResult
from runtime.sandbox.sandbox import Sandbox
from runtime.sandbox.testing.detect import TestCommand, detect
from runtime.sandbox.testing.parse_js import parse_jest, parse_vitest
from runtime.sandbox.testing.parse_native import parse_cargo_test, parse_go_test
from runtime.sandbox.testing.parse_python import parse_pytest, parse_unittest
from runtime.sandbox.testing.report import ParsedTests, TestReport

Parser = Callable[[str], ParsedTests]
PARSERS: dict[str, Parser] = {
    "pytest": parse_pytest, "unittest": parse_unittest, "go": parse_go_test,
    "cargo": parse_cargo_test, "jest": parse_jest, "vitest": parse_vitest,
}


def parse_output(framework: str, text: str) -> tuple[str, ParsedTests]:
    """Parse with the framework's parser; for an unknown runner (``make test``, a custom
    script) try each parser and keep the one that found the most."""
    if framework in PARSERS:
        return framework, PARSERS[framework](text)
    best_name, best = framework, ParsedTests()
    for name, parser in PARSERS.items():
        found = parser(text)
        size = len(found.passed) + len(found.failed) + len(found.errored) + len(found.skipped)
        if size > len(best.passed) + len(best.failed) + len(best.errored) + len(best.skipped):
            best_name, best = name, found
    return (best_name if best.found_anything else framework), best


class TestRunner:
    """Detects how a project runs its tests and runs them in ``sandbox``.

    ``command`` (e.g. remembered by the agent) overrides the sandbox settings'
    ``test_command``, which overrides detection.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, sandbox: Sandbox, root: Path | str, *, command: str | None = None) -> None:
        self.sandbox = sandbox
        self.root = Path(root).resolve()
        self._override = command or sandbox.settings.test_command

    def detect(self) -> TestCommand:
        """The test command (raises ``NoTestCommand`` with what was looked for)."""
        return detect(self.root, self._override)

    def run(self, ids: Sequence[str] = (), *, timeout: float | None = None,
            env: Mapping[str, str] | None = None,
            on_output: OutputCallback | None = None) -> TestReport:
        """Run the tests named by ``ids`` (all when empty) and parse the result; ``env``
        adds variables to the sandbox's scrubbed environment."""
        test_cmd = self.detect()
        cmd, shell = test_cmd.for_ids(ids)
        run = self.sandbox.run(cmd, cwd=self.root, timeout=timeout, shell=shell,
                               env={**test_cmd.env, **(env or {})}, on_output=on_output)
        return self._report(test_cmd, ids, run)

    async def arun(self, ids: Sequence[str] = (), *, timeout: float | None = None,
                   env: Mapping[str, str] | None = None,
                   on_output: OutputCallback | None = None) -> TestReport:
        """``run`` for asyncio."""
        test_cmd = self.detect()
        cmd, shell = test_cmd.for_ids(ids)
        run = await self.sandbox.arun(cmd, cwd=self.root, timeout=timeout, shell=shell,
                                      env={**test_cmd.env, **(env or {})}, on_output=on_output)
        return self._report(test_cmd, ids, run)

    def _report(self, test_cmd: TestCommand, ids: Sequence[str], run: RunResult) -> TestReport:
        framework, parsed = parse_output(test_cmd.framework, run.stdout + "\n" + run.stderr)
        note = ""
        if ids and test_cmd.subset_style == "none" and test_cmd.shell is None:
            note = f"{test_cmd.framework} cannot run a subset; all tests ran"
        return TestReport.from_parsed(framework, test_cmd.describe(), parsed, run, note)
