"""TestRunner on tiny real projects: detection, full and subset runs, compact reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import pytest

from runtime.sandbox import NoTestCommand, Sandbox, SandboxSettings, TestRunner
from runtime.sandbox.testing import detect

SUITE = {
    "tests/test_calc.py": (
        "def test_add():\n    assert 1 + 1 == 2\n\n"
        "def test_sub():\n    assert 2 - 2 == 1, 'subtraction is broken'\n"),
    "tests/test_other.py": "def test_ok():\n    assert True\n",
    "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-p no:cacheprovider'\n",
}


@pytest.fixture
def sandbox_for(bwrap_problem: str | None, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Sandbox]:
    # plugin autoload costs seconds per run in this environment; the runner is under test
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    backend = "bwrap" if bwrap_problem is None else "local"

    def make(root: Path, **kw: object) -> Sandbox:
        settings = SandboxSettings(backend=backend, env_allow=["PYTEST_DISABLE_PLUGIN_AUTOLOAD"],
                                   timeout_s=60, **kw)
        return Sandbox(settings, root)

    return make


def test_detects_each_kind_of_project(make_repo: Callable[..., Path]) -> None:
    cases = {
        "py": ({"pytest.ini": "[pytest]\n"}, "pytest"),
        "go": ({"go.mod": "module x\n"}, "go"),
        "rs": ({"Cargo.toml": "[package]\nname='x'\n"}, "cargo"),
        "js": ({"package.json": json.dumps({"scripts": {"test": "vitest run"}}),
                "pnpm-lock.yaml": ""}, "vitest"),
        "mk": ({"Makefile": "build:\n\ttrue\ntest:\n\ttrue\n"}, "make"),
        "cfg": ({"setup.cfg": "[tool:pytest]\naddopts = -q\n"}, "pytest"),
    }
    for name, (files, framework) in cases.items():
        cmd = detect(make_repo(files, name=name))
        assert cmd.framework == framework, name
    assert detect(make_repo({"package.json": json.dumps({"scripts": {"test": "jest"}})},
                            name="npm")).argv[:2] == ("npm", "test")
    placeholder = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    with pytest.raises(NoTestCommand, match="test_command"):
        detect(make_repo({"package.json": json.dumps(placeholder)}, name="none"))


def test_subset_arguments_per_runner(make_repo: Callable[..., Path]) -> None:
    go = detect(make_repo({"go.mod": "module x\n"}, name="go"))
    argv, shell = go.for_ids(["TestA", "TestB/sub", "./pkg/..."])
    assert not shell and argv == ["go", "test", "-v", "-run", "^(TestA|TestB)$", "./pkg/..."]
    cargo = detect(make_repo({"Cargo.toml": ""}, name="rs"))
    assert cargo.for_ids(["tests::a"])[0] == ["cargo", "test", "--", "tests::a"]
    override = detect(make_repo({}, name="o"), "make check")
    assert override.for_ids(["a b"]) == ("make check 'a b'", True)


def test_runs_a_real_pytest_suite(make_repo: Callable[..., Path],
                                  sandbox_for: Callable[..., Sandbox]) -> None:
    root = make_repo(SUITE)
    report = TestRunner(sandbox_for(root), root).run()
    assert report.framework == "pytest"
    assert sorted(report.passed) == ["tests/test_calc.py::test_add", "tests/test_other.py::test_ok"]
    assert report.failed == ["tests/test_calc.py::test_sub"]
    assert not report.ok and report.run.exit_code == 1
    text = report.for_model(600)
    assert len(text) <= 600
    assert text.startswith("pytest: FAILED - 1 failed, 2 passed")
    assert "subtraction is broken" in text


def test_runs_a_subset(make_repo: Callable[..., Path], sandbox_for: Callable[..., Sandbox]) -> None:
    root = make_repo(SUITE)
    report = TestRunner(sandbox_for(root), root).run(["tests/test_other.py"])
    assert report.ok and report.passed == ["tests/test_other.py::test_ok"]


def test_unittest_via_the_settings_override(make_repo: Callable[..., Path],
                                            sandbox_for: Callable[..., Sandbox]) -> None:
    root = make_repo({"tests/test_u.py": (
        "import unittest\n\nclass TestU(unittest.TestCase):\n"
        "    def test_ok(self):\n        self.assertEqual(1, 1)\n"
        "    def test_fail(self):\n        self.assertEqual(1, 2)\n")})
    cmd = f"{sys.executable} -m unittest discover -v -s tests"
    report = TestRunner(sandbox_for(root, test_command=cmd), root).run()
    assert report.framework == "unittest"
    assert report.passed == ["test_u.TestU.test_ok"] and report.failed == ["test_u.TestU.test_fail"]
    assert "AssertionError: 1 != 2" in report.excerpts["test_u.TestU.test_fail"]


def test_a_hanging_suite_is_reported_as_killed(make_repo: Callable[..., Path],
                                               sandbox_for: Callable[..., Sandbox]) -> None:
    root = make_repo({"pytest.ini": "[pytest]\n",
                      "test_hang.py": "import time\n\ndef test_hang():\n    time.sleep(60)\n"})
    report = TestRunner(sandbox_for(root), root).run(timeout=2)
    assert report.run.timed_out and not report.ok
    assert "KILLED (wall-clock limit of 2s exceeded)" in report.for_model()


def test_for_model_respects_its_budget_with_many_failures(
        make_repo: Callable[..., Path], sandbox_for: Callable[..., Sandbox]) -> None:
    body = "".join(f"def test_f{i}():\n    assert {i} == -1, 'x' * 300\n\n" for i in range(30))
    root = make_repo({"pytest.ini": "[pytest]\n", "test_many.py": body})
    report = TestRunner(sandbox_for(root), root).run()
    assert len(report.failed) == 30
    text = report.for_model(1500)
    assert len(text) <= 1500
    listed = text.count("\nFAILED test_many.py::")
    assert listed < 30 and text.endswith(f"... and {30 - listed} more failing tests")
    assert "AssertionError" in text
