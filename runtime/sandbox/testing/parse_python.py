"""Parsers for pytest and unittest output."""

from __future__ import annotations

import re

from runtime.sandbox.testing.report import ParsedTests, shorten

_PYTEST_SUMMARY = re.compile(
    r"^(PASSED|FAILED|ERROR|XFAIL|XPASS)\s+(\S+?)(?:\s+-\s+(.*))?\s*$")
_PYTEST_VERBOSE = re.compile(
    r"^(\S+::\S+)\s+(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_PYTEST_SECTION = re.compile(r"^={3,} ?(.*?) ?={3,}$")
_PYTEST_HEADER = re.compile(r"^_{3,} (.+?) _{3,}$")
_PYTEST_TOTALS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
# "== 1 failed, 2 passed in 0.1s ==" (plain, or without the rules under -q)
_PYTEST_FINAL = re.compile(
    r"^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?),?\s*)+)"
    r"in [\d.]+s\b")


def parse_pytest(text: str) -> ParsedTests:
    """Ids from the short summary (``-rfEsxXp``) or ``-v`` lines, excerpts from the
    FAILURES/ERRORS sections, totals from the final line."""
    res = ParsedTests()
    buckets = {"PASSED": res.passed, "XPASS": res.passed, "FAILED": res.failed,
               "ERROR": res.errored, "SKIPPED": res.skipped, "XFAIL": res.skipped}
    sections: dict[str, list[str]] = {}
    section = ""
    header: str | None = None
    for line in text.splitlines():
        if m := _PYTEST_FINAL.match(line):
            for n, kind in _PYTEST_TOTALS.findall(m.group(1)):
                res.counts["errors" if kind.startswith("error") else kind] = int(n)
            section, header = "", None
            continue
        if m := _PYTEST_SECTION.match(line):
            section, header = m.group(1).strip(), None
            continue
        if section in ("FAILURES", "ERRORS") and (m := _PYTEST_HEADER.match(line)):
            header = m.group(1)
            sections[header] = []
            continue
        if header is not None and section in ("FAILURES", "ERRORS"):
            sections[header].append(line)
            continue
        if (m := _PYTEST_VERBOSE.match(line)) or (m := _PYTEST_SUMMARY.match(line)):
            res.add(buckets[m.group(2) if m.re is _PYTEST_VERBOSE else m.group(1)],
                    m.group(1) if m.re is _PYTEST_VERBOSE else m.group(2))
    # a test that failed and then errored in teardown is reported under both; keep both
    for title, body in sections.items():
        test_id = _pytest_id_for(title, res.failed + res.errored)
        if test_id is not None and test_id not in res.excerpts:
            res.excerpts[test_id] = _pytest_excerpt(body)
    return res


def _pytest_id_for(title: str, ids: list[str]) -> str | None:
    """Match a section title (``TestX.test_b``, ``ERROR at setup of test_c``, ``ERROR
    collecting tests/x.py``) to a node id."""
    for prefix in ("ERROR at setup of ", "ERROR at teardown of ", "ERROR collecting "):
        if title.startswith(prefix):
            title = title[len(prefix):]
    for test_id in ids:
        if test_id == title or test_id.replace("::", ".").endswith("." + title) \
                or test_id.endswith("::" + title):
            return test_id
    return None


def _pytest_excerpt(body: list[str]) -> str:
    # the "E   " lines carry the assertion; the location line says where
    errors = [ln for ln in body if ln.startswith("E ")]
    where = [ln for ln in body if re.match(r"^\S+:\d+: ", ln)]
    if errors:
        return shorten("\n".join(errors + where[-1:]))
    return shorten("\n".join(body), max_lines=15)


_UT_RESULT = re.compile(
    r"^(\w+) \(([\w.]+)\)(?:\n.*?)? \.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success)",
    re.MULTILINE)
_UT_BLOCK = re.compile(
    r"^={20,}\n(FAIL|ERROR): (\w+) \(([\w.]+)\)[^\n]*\n-{20,}\n(.*?)(?=^={20,}$|^-{20,}\nRan |\Z)",
    re.MULTILINE | re.DOTALL)
_UT_RAN = re.compile(r"^Ran (\d+) tests? in", re.MULTILINE)
_UT_FINAL = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$", re.MULTILINE)


def _ut_id(name: str, qual: str) -> str:
    # Python 3.11 prints ``test_a (mod.Class.test_a)``, older ones ``test_a (mod.Class)``
    return qual if qual.endswith("." + name) else f"{qual}.{name}"


def parse_unittest(text: str) -> ParsedTests:
    """``python -m unittest -v`` output: one line per test, FAIL/ERROR blocks."""
    res = ParsedTests()
    for m in _UT_RESULT.finditer(text):
        test_id, status = _ut_id(m.group(1), m.group(2)), m.group(3)
        bucket = {"ok": res.passed, "FAIL": res.failed, "ERROR": res.errored,
                  "unexpected success": res.failed}.get(status, res.skipped)
        res.add(bucket, test_id)
    for m in _UT_BLOCK.finditer(text):
        kind, test_id = m.group(1), _ut_id(m.group(2), m.group(3))
        if m.group(3).startswith("unittest.loader._Failed"):
            test_id = m.group(2)  # an import error: the module that failed to load
        res.add(res.failed if kind == "FAIL" else res.errored, test_id)
        for bucket in (res.passed, res.skipped):
            if test_id in bucket:
                bucket.remove(test_id)
        res.excerpts.setdefault(test_id, shorten(m.group(4)))
    if ran := _UT_RAN.search(text):
        res.counts["total"] = int(ran.group(1))
    if (final := _UT_FINAL.search(text)) and final.group(2):
        for part in final.group(2).split(","):
            key, _, value = part.strip().partition("=")
            if value.isdigit():
                res.counts[{"failures": "failed", "errors": "errors"}.get(key, key)] = int(value)
    if "total" in res.counts:
        bad = res.counts.get("failed", 0) + res.counts.get("errors", 0) + res.counts.get("skipped", 0)
        res.counts["passed"] = max(0, res.counts["total"] - bad)
    return res
