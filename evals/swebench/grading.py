"""Grade a test log with the official ``swebench`` log parsers and resolution rules.

The log carries the official markers (``>>>>> Start Test Output`` ...), so the same slicing
the official harness does applies; the parser is the official one for the repository (or the
row's ``log_parser``, or the pytest parser for repositories the package does not know).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from evals.swebench.dataset import Instance

Parser = Callable[[str, Any], dict[str, str]]


def parser_for(inst: Instance) -> Parser:
    """The log parser for ``inst``'s repository."""
    from swebench.harness import log_parsers
    from swebench.harness.log_parsers import MAP_REPO_TO_PARSER
    from swebench.harness.log_parsers.python import parse_log_pytest

    if inst.log_parser:
        by_name = {p.__name__: p for p in MAP_REPO_TO_PARSER.values()}
        found = by_name.get(inst.log_parser) or getattr(log_parsers, inst.log_parser, None)
        if callable(found):
            return found
    return MAP_REPO_TO_PARSER.get(inst.repo, parse_log_pytest)


def status_map(log_text: str, inst: Instance) -> tuple[dict[str, str], bool]:
    """Test id -> status from the log, and whether the log describes a completed test run."""
    from swebench.harness.constants import (
        APPLY_PATCH_FAIL,
        END_TEST_OUTPUT,
        RESET_FAILED,
        START_TEST_OUTPUT,
        TESTS_ERROR,
        TESTS_TIMEOUT,
    )

    if any(code in log_text for code in (APPLY_PATCH_FAIL, RESET_FAILED, TESTS_ERROR, TESTS_TIMEOUT)):
        return {}, False
    if START_TEST_OUTPUT not in log_text or END_TEST_OUTPUT not in log_text:
        return {}, False
    section = log_text.split(START_TEST_OUTPUT)[1].split(END_TEST_OUTPUT)[0]
    spec = SimpleNamespace(repo=inst.repo, version=inst.version, instance_id=inst.instance_id,
                           FAIL_TO_PASS=list(inst.FAIL_TO_PASS), PASS_TO_PASS=list(inst.PASS_TO_PASS))
    parse = parser_for(inst)
    return parse(section, spec) or parse(log_text, spec), True


def grade(inst: Instance, log_text: str) -> tuple[bool, bool, dict[str, Any]]:
    """``(completed, resolved, tests_status)`` under the official rules (FAIL_TO_PASS all pass
    and PASS_TO_PASS all still pass; fail-only repositories as the package says)."""
    from swebench.harness.constants import (
        FAIL_ONLY_REPOS,
        FAIL_TO_PASS,
        PASS_TO_PASS,
        EvalType,
        ResolvedStatus,
    )
    from swebench.harness.grading import get_eval_tests_report, get_resolution_status

    statuses, completed = status_map(log_text, inst)
    if not completed:
        return False, False, {}
    eval_type = EvalType.FAIL_ONLY if inst.repo in FAIL_ONLY_REPOS else EvalType.PASS_AND_FAIL
    gold = {"instance_id": inst.instance_id, FAIL_TO_PASS: list(inst.FAIL_TO_PASS),
            PASS_TO_PASS: list(inst.PASS_TO_PASS)}
    report = get_eval_tests_report(statuses, gold, eval_type=eval_type)
    return True, get_resolution_status(report) == ResolvedStatus.FULL.value, report


def instance_report(inst: Instance, model_patch: str | None, applied: bool, resolved: bool,
                    tests_status: dict[str, Any]) -> dict[str, Any]:
    """The official per-instance ``report.json`` entry."""
    entry: dict[str, Any] = {
        "patch_is_None": model_patch is None,
        "patch_exists": bool(model_patch),
        "patch_successfully_applied": applied,
        "resolved": resolved,
    }
    if tests_status:
        entry["tests_status"] = tests_status
    return {inst.instance_id: entry}
