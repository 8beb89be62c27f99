"""Parsers for ``go test -v`` and ``cargo test`` output."""

from __future__ import annotations

import re

from runtime.sandbox.testing.report import ParsedTests, shorten

_GO_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE|NAME)\s+(\S+)")
_GO_END = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(")
_GO_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(build failed|setup failed)\]")
_GO_BUILD_HEADER = re.compile(r"^# (\S+)")


def parse_go_test(text: str) -> ParsedTests:
    """Results from ``--- PASS/FAIL/SKIP`` lines (subtests as ``Parent/sub``); a failure's
    excerpt is the output logged while it ran; build failures are errors of the package."""
    res = ParsedTests()
    logs: dict[str, list[str]] = {}
    current: str | None = None
    build_pkg: str | None = None
    build_lines: list[str] = []
    last_failed: str | None = None
    for line in text.splitlines():
        if m := _GO_RUN.match(line):
            current = m.group(1)
            logs.setdefault(current, [])
            continue
        if m := _GO_END.match(line):
            status, name = m.groups()
            res.add({"PASS": res.passed, "FAIL": res.failed, "SKIP": res.skipped}[status], name)
            if status == "FAIL":
                last_failed = name
            continue
        if m := _GO_BUILD_FAILED.match(line):
            pkg = m.group(1)
            res.add(res.errored, pkg)
            res.excerpts[pkg] = shorten("\n".join(build_lines) or line)
            build_pkg, build_lines = None, []
            continue
        if m := _GO_BUILD_HEADER.match(line):
            build_pkg, build_lines = m.group(1), []
            continue
        if build_pkg is not None and not line.startswith(("=== ", "ok", "FAIL", "PASS")):
            build_lines.append(line)
            continue
        if line.startswith("panic:") and last_failed is not None:
            logs.setdefault(last_failed, []).append(line)
            current = last_failed
            continue
        if current is not None and (line.startswith("    ") or line.startswith("\t")
                                    or line.startswith("goroutine ")):
            logs[current].append(line.strip())
    for name in res.failed:
        text_lines = logs.get(name, [])
        if text_lines:
            res.excerpts[name] = shorten("\n".join(text_lines))
    res.counts = {"passed": len(res.passed), "failed": len(res.failed),
                  "skipped": len(res.skipped), "errors": len(res.errored)}
    return res


_CARGO_RESULT = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored(?:, .*)?)$")
_CARGO_OUTPUT = re.compile(r"^---- (\S+) std(?:out|err) ----$")
_CARGO_TOTALS = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
_CARGO_ERROR = re.compile(r"^error(\[E\d+\])?: (?!test failed)")


def parse_cargo_test(text: str) -> ParsedTests:
    """``test name ... ok|FAILED|ignored`` lines, ``---- name stdout ----`` excerpts, totals
    summed over test binaries; compile errors are reported as the errored id ``build``."""
    res = ParsedTests()
    totals = [0, 0, 0]
    section: str | None = None
    outputs: dict[str, list[str]] = {}
    compile_errors: list[str] = []
    in_error = False
    for line in text.splitlines():
        if m := _CARGO_RESULT.match(line):
            name, status = m.groups()
            res.add(res.passed if status == "ok" else res.failed if status == "FAILED"
                    else res.skipped, name)
            section = None
            continue
        if m := _CARGO_OUTPUT.match(line):
            section = m.group(1)
            outputs.setdefault(section, [])
            continue
        if line in ("failures:", "successes:") or line.startswith("test result:"):
            section = None
            if m := _CARGO_TOTALS.match(line):
                for i in range(3):
                    totals[i] += int(m.group(i + 1))
            continue
        if section is not None:
            outputs[section].append(line)
            continue
        if _CARGO_ERROR.match(line):
            in_error = True
        if in_error:
            compile_errors.append(line)
            if not line.strip():
                in_error = False
    for name in res.failed:
        if name in outputs:
            res.excerpts[name] = shorten("\n".join(
                ln for ln in outputs[name] if not ln.startswith("note: run with")))
    if compile_errors and not res.passed and not res.failed:
        res.add(res.errored, "build")
        res.excerpts["build"] = shorten("\n".join(compile_errors))
    if any(totals):
        res.counts = {"passed": totals[0], "failed": totals[1], "skipped": totals[2]}
    return res
