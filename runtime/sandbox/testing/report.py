"""The structured result of a test run, and its compact rendering for a model."""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from runtime.sandbox.result import RunResult

EXCERPT_LINES = 30
EXCERPT_CHARS = 1500


def shorten(text: str, max_lines: int = EXCERPT_LINES, max_chars: int = EXCERPT_CHARS) -> str:
    """Trim a failure excerpt: blank edges dropped, then the last lines and chars kept
    (an assertion's message is at the end of a traceback)."""
    lines = [ln.rstrip() for ln in textwrap.dedent(text.strip("\n")).splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    if len(lines) > max_lines:
        lines = ["..."] + lines[-max_lines:]
    out = "\n".join(lines)
    return out if len(out) <= max_chars else "..." + out[-max_chars:]


@dataclass
class ParsedTests:
    """What a parser found in a test run's output."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    excerpts: dict[str, str] = field(default_factory=dict)
    """Failure excerpt per failed or errored id."""
    counts: dict[str, int] = field(default_factory=dict)
    """Totals from the runner's own summary line (``passed``, ``failed``, ...), when printed."""

    def add(self, bucket: list[str], test_id: str) -> None:
        if test_id not in bucket:
            bucket.append(test_id)

    @property
    def found_anything(self) -> bool:
        return bool(self.passed or self.failed or self.errored or self.skipped or self.counts)


@dataclass
class TestReport:
    """Passed/failed/errored test ids with failure excerpts, and the run behind them."""

    __test__ = False  # not a pytest test class, despite the name

    framework: str
    command: str
    passed: list[str]
    failed: list[str]
    errored: list[str]
    skipped: list[str]
    excerpts: dict[str, str]
    counts: dict[str, int]
    run: RunResult
    note: str = ""
    """Anything the reader should know (e.g. a subset was asked for but not supported)."""

    @classmethod
    def from_parsed(cls, framework: str, command: str, parsed: ParsedTests, run: RunResult,
                    note: str = "") -> TestReport:
        return cls(framework=framework, command=command, passed=parsed.passed,
                   failed=parsed.failed, errored=parsed.errored, skipped=parsed.skipped,
                   excerpts=parsed.excerpts, counts=parsed.counts, run=run, note=note)

    @property
    def ok(self) -> bool:
        """The run exited 0 within its limits and no test failed or errored."""
        return self.run.ok and not self.failed and not self.errored

    def count(self, kind: str) -> int:
        """Tests of ``kind`` (passed, failed, errors, skipped): the runner's own total
        when it printed one, else the ids parsed."""
        ids = {"passed": self.passed, "failed": self.failed, "errors": self.errored,
               "skipped": self.skipped}[kind]
        return max(self.counts.get(kind, 0), len(ids))

    def headline(self) -> str:
        """``pytest: FAILED - 1 failed, 3 passed (exit 1, 0.52s)``."""
        parts = [f"{self.count(k)} {k}" for k in ("failed", "errors", "passed", "skipped")
                 if self.count(k)]
        status = "PASSED" if self.ok else "FAILED"
        if self.run.killed_by is not None:
            status = f"KILLED ({self.run.reason})"
        tally = ", ".join(parts) or "no test results found"
        return (f"{self.framework}: {status} - {tally} "
                f"(exit {self.run.exit_code}, {self.run.duration_s:.2f}s)")

    def for_model(self, max_chars: int = 2000) -> str:
        """A compact text for a model: the headline, each failing id with its excerpt while
        the budget lasts, then the remaining ids; the output tail when nothing parsed."""
        lines = [self.headline()]
        if self.note:
            lines.append(self.note)
        text = "\n".join(lines)
        bad = [("FAILED", t) for t in self.failed] + [("ERROR", t) for t in self.errored]
        if not bad and not self.ok:
            tail = (self.run.stdout + "\n" + self.run.stderr).strip()
            room = max_chars - len(text) - 20
            if tail and room > 0:
                text += "\noutput tail:\n" + tail[-room:]
            return text[:max_chars]
        reserve = 48  # room for the closing "... and N more failing tests" line
        for i, (label, test_id) in enumerate(bad):
            name = f"\n{label} {test_id}"
            excerpt = self.excerpts.get(test_id, "")
            entry = name + "".join("\n  " + ln for ln in excerpt.splitlines())
            if len(text) + len(entry) + reserve <= max_chars:
                text += entry
            elif len(text) + len(name) + reserve <= max_chars:
                text += name  # no room for the excerpt: the id still helps
            else:
                text += f"\n... and {len(bad) - i} more failing tests"
                break
        return text[:max_chars]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``engram test --json``, the servers)."""
        data = asdict(self)
        data["run"] = self.run.to_dict()
        data["ok"] = self.ok
        data["headline"] = self.headline()
        return data
