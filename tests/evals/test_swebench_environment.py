"""Which environment an instance gets: row fields, then the official spec, then the fallback."""

from __future__ import annotations

import json
from pathlib import Path

from evals.swebench.dataset import Instance
from evals.swebench.environment import FALLBACK_TEST_CMD, plan_environment

# ../shared/ lies beside the checkout, on developer machines and in CI alike.
SHARED = Path(__file__).resolve().parents[3] / "shared" / "swebench" / "verified_mini50.jsonl"


def _inst(**kw: object) -> Instance:
    base = {"instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc",
            "problem_statement": "bug", "FAIL_TO_PASS": ("t.py::a",),
            "PASS_TO_PASS": ("t.py::b",), "version": "1.0"}
    return Instance(**{**base, **kw})  # type: ignore[arg-type]


def test_unknown_repository_gets_the_fallback_and_a_note() -> None:
    plan = plan_environment(_inst())
    assert plan.source == "fallback" and plan.test_cmd == FALLBACK_TEST_CMD
    assert plan.test_args == ("t.py::a", "t.py::b")
    assert "fallback environment" in plan.notes[0]


def test_row_fields_win_over_the_official_spec() -> None:
    plan = plan_environment(_inst(repo="django/django", version="3.0", install=("make",),
                                  test_cmd="python -m pytest -rA"))
    assert plan.source == "row" and plan.install == ("make",)
    assert plan.test_command_line() == "python -m pytest -rA t.py::a t.py::b"


def test_official_spec_gives_django_its_runner_and_test_modules() -> None:
    row = json.loads(SHARED.read_text().splitlines()[0]) if SHARED.exists() else None
    test_patch = row["test_patch"] if row else "diff --git a/tests/auth_tests/test_forms.py b/tests/auth_tests/test_forms.py\n"
    plan = plan_environment(_inst(repo="django/django", version="3.1", test_patch=test_patch))
    assert plan.source == "spec"
    assert plan.test_cmd.startswith("./tests/runtests.py")
    assert "auth_tests.test_forms" in plan.test_args
    assert any("Python 3.6" in n for n in plan.notes)
    assert not any("apt-get" in step or "locale-gen" in step for step in plan.install)
