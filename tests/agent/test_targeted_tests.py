"""Targeted tests first: the tests whose imports reach the edited files, for pytest and
``python -m unittest`` commands; the suite when nothing relates or the command is unknown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.events import EventBase
from agent.tools.targeted import parse_unittest
from agent.tools.test_runs import TestRuns
from runtime.sandbox import Sandbox, SandboxSettings, TestRunner

FILES = {
    "shop/__init__.py": "",
    "shop/prices.py": "def apply_discount(price, pct):\n    return price * (100 - pct) / 100\n",
    "shop/cart.py": "from .prices import apply_discount\n\n\ndef total(prices, pct):\n"
                    "    return sum(apply_discount(p, pct) for p in prices)\n",
    "shop/labels.py": "def label(name):\n    return name.title()\n",
    "tests/__init__.py": "",
    "tests/helpers.py": "from shop.cart import total\n",
    "tests/test_cart.py": "import unittest\n\nfrom tests.helpers import total\n\n\n"
                          "class CartTest(unittest.TestCase):\n    def test_total(self):\n"
                          "        self.assertEqual(total([10.0], 10), 9.0)\n",
    "tests/test_prices.py": "import unittest\n\nfrom shop import prices\n\n\n"
                            "class PricesTest(unittest.TestCase):\n    def test_discount(self):\n"
                            "        self.assertEqual(prices.apply_discount(10.0, 50), 5.0)\n",
    "tests/test_labels.py": "import unittest\n\nimport shop.labels\n\n\n"
                            "class LabelsTest(unittest.TestCase):\n    def test_label(self):\n"
                            "        self.assertEqual(shop.labels.label('ab'), 'Ab')\n",
}
ALL = sorted(FILES)


def _runs(repo: Path, command: str | None) -> TestRuns:
    sandbox = Sandbox(SandboxSettings(test_command=command), repo)
    return TestRuns(TestRunner(sandbox, repo), 2_000, 60)


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(FILES, name="store")


@pytest.mark.parametrize("command", ["python -m unittest discover -s tests -t .",
                                     "python -m unittest discover -v -s tests",
                                     "PYTHONDONTWRITEBYTECODE=1 python3 -m unittest -v"])
async def test_unittest_runs_the_modules_whose_imports_reach_the_edit(repo: Path, command: str) -> None:
    runs = _runs(repo, command)
    plan = runs.targeted(["shop/prices.py"], ALL)
    assert plan is not None and plan.tests == ["tests/test_cart.py", "tests/test_prices.py"]
    lines: list[EventBase] = []
    outcomes = await runs.after_edits(["shop/prices.py"], ALL, True, sink=lines.append)
    assert [o.scope for o in outcomes] == ["targeted", "suite"]
    targeted, suite = outcomes
    assert targeted.state == "green" and targeted.report is not None and targeted.report.count("passed") == 2
    assert "test_labels" not in targeted.command and "test_cart" in targeted.command
    assert suite.report is not None and suite.report.count("passed") == 3
    assert next(e.scope for e in lines if e.type == "test_output") == "targeted"  # type: ignore[attr-defined]


async def test_a_failing_targeted_run_stops_before_the_suite(repo: Path) -> None:
    (repo / "shop/prices.py").write_text("def apply_discount(price, pct):\n    return price\n")
    outcomes = await _runs(repo, "python -m unittest discover -s tests -t .").after_edits(
        ["shop/prices.py"], ALL, True)
    assert [o.scope for o in outcomes] == ["targeted"] and outcomes[0].state == "red"
    assert len(outcomes[0].failing) == 2


async def test_pytest_gets_the_related_test_files(repo: Path) -> None:
    runs = _runs(repo, "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 pytest -q -p no:cacheprovider")
    plan = runs.targeted(["shop/labels.py"], ALL)
    assert plan is not None and plan.ids == ["tests/test_labels.py"]
    outcomes = await runs.after_edits(["shop/labels.py"], ALL, True)
    assert outcomes[0].scope == "targeted" and outcomes[0].report.count("passed") == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("command, edited", [
    ("python -m unittest discover -s tests -t . && echo done", ["shop/prices.py"]),  # a pipeline
    ("make test", ["shop/prices.py"]),                                              # unknown runner
    ("python -m unittest tests.test_cart", ["shop/prices.py"]),                     # explicit names
    ("python -m unittest discover -s tests -t .", ["README.md"]),                   # nothing relates
    ("python -m unittest discover -s tests -t .", ["shop/__init__.py"]),            # every test does
])
def test_falls_back_to_the_suite(repo: Path, command: str, edited: list[str]) -> None:
    assert _runs(repo, command).targeted(edited, ALL) is None


def test_unittest_command_lines_are_taken_apart() -> None:
    cmd = parse_unittest(["python", "-m", "unittest", "discover", "-s", "src/tests", "-p", "*_test.py",
                          "-t", "src", "-v", "-k", "fast"])
    assert cmd is not None and (cmd.start, cmd.top, cmd.pattern) == ("src/tests", "src", "*_test.py")
    assert cmd.discovers("src/tests/a_test.py") and not cmd.discovers("src/tests/test_a.py")
    assert cmd.module_of("src/tests/a_test.py") == "tests.a_test" and cmd.module_of("other/x_test.py") is None
    assert cmd.command_for(["tests.a_test"]) == "python -m unittest -v -k fast tests.a_test"
    positional = parse_unittest(["python3", "-m", "unittest", "discover", "tests", "check_*.py", "."])
    assert positional is not None and (positional.start, positional.pattern, positional.top) == (
        "tests", "check_*.py", ".")
    assert parse_unittest(["python", "-m", "pytest"]) is None
    assert parse_unittest(["python", "-m", "unittest", "discover", "--weird"]) is None
