"""Parsers on captured real outputs (go test's is in its documented -v format)."""

from __future__ import annotations

from pathlib import Path

from runtime.sandbox.testing import parse_output
from runtime.sandbox.testing.parse_js import parse_jest, parse_vitest
from runtime.sandbox.testing.parse_native import parse_cargo_test, parse_go_test
from runtime.sandbox.testing.parse_python import parse_pytest, parse_unittest

FIXTURES = Path(__file__).parent / "fixtures"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_go_test_subtests_skips_and_build_failures() -> None:
    res = parse_go_test(_read("go_test.txt"))
    assert res.passed == ["TestAdd", "TestTable/zero", "TestUtil"]
    assert res.failed == ["TestSub", "TestTable", "TestTable/negative"]
    assert res.skipped == ["TestSkipped"]
    assert res.errored == ["example.com/calc/broken"]
    assert res.excerpts["TestSub"] == "calc_test.go:12: Sub(2, 2) = 0; want 1"
    assert "Abs(-1) = -1" in res.excerpts["TestTable/negative"]
    assert "undefined: missing" in res.excerpts["example.com/calc/broken"]


def test_cargo_test_results_and_panic_excerpt() -> None:
    res = parse_cargo_test(_read("cargo_test.txt"))
    assert (res.passed, res.failed, res.skipped) == (["tests::adds"], ["tests::subtracts"],
                                                     ["tests::slow"])
    excerpt = res.excerpts["tests::subtracts"]
    assert "math is hard" in excerpt and "left: 4" in excerpt
    assert "RUST_BACKTRACE" not in excerpt
    assert res.counts == {"passed": 1, "failed": 1, "skipped": 1}


def test_cargo_compile_error_is_an_error_not_silence() -> None:
    text = ("   Compiling calc v0.1.0 (/p)\nerror[E0425]: cannot find value `x` in this scope\n"
            " --> src/lib.rs:1:22\n  |\n1 | pub fn f() -> i32 { x }\n  |                     ^ "
            "not found in this scope\n\nerror: could not compile `calc` (lib test) due to 1 "
            "previous error\n")
    res = parse_cargo_test(text)
    assert res.errored == ["build"] and "E0425" in res.excerpts["build"]


def test_jest_default_and_verbose() -> None:
    default = parse_jest(_read("jest_default.txt"))
    assert default.failed == ["src/math.test.js › math › subtracts"]
    assert default.counts == {"failed": 1, "passed": 2}
    assert "Expected: 5" in default.excerpts["src/math.test.js › math › subtracts"]
    verbose = parse_jest(_read("jest_verbose.txt"))
    assert verbose.passed == ["src/math.test.js › math › adds", "src/other.test.js › works"]
    assert verbose.failed == ["src/math.test.js › math › subtracts"]


def test_vitest_default_and_verbose() -> None:
    failing = "src/math.test.js > math > subtracts"
    default = parse_vitest(_read("vitest_default.txt"))
    assert default.failed == [failing] and default.counts == {"failed": 1, "passed": 2}
    assert "expected 4 to be 5" in default.excerpts[failing]
    verbose = parse_vitest(_read("vitest_verbose.txt"))
    assert verbose.passed == ["src/math.test.js > math > adds", "src/other.test.js > works"]
    assert verbose.failed == [failing]


PYTEST_VERBOSE = """\
============================= test session starts ==============================
collected 4 items

tests/test_calc.py::test_add PASSED                                      [ 25%]
tests/test_calc.py::test_sub FAILED                                      [ 50%]
tests/test_calc.py::TestX::test_m[1-2] FAILED                            [ 75%]
tests/test_calc.py::test_skip SKIPPED (later)                            [100%]

=================================== FAILURES ===================================
___________________________________ test_sub ___________________________________

    def test_sub():
>       assert 2 - 2 == 1, "subtraction is broken"
E       AssertionError: subtraction is broken
E       assert (2 - 2) == 1

tests/test_calc.py:5: AssertionError
_____________________________ TestX.test_m[1-2] ______________________________

self = <test_calc.TestX object at 0x7f>

    def test_m(self):
>       raise ValueError("boom")
E       ValueError: boom

tests/test_calc.py:8: ValueError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_sub - AssertionError: subtraction is broken
FAILED tests/test_calc.py::TestX::test_m[1-2] - ValueError: boom
==================== 2 failed, 1 passed, 1 skipped in 0.05s ====================
"""


def test_pytest_verbose_output() -> None:
    res = parse_pytest(PYTEST_VERBOSE)
    assert res.passed == ["tests/test_calc.py::test_add"]
    assert res.failed == ["tests/test_calc.py::test_sub", "tests/test_calc.py::TestX::test_m[1-2]"]
    assert res.skipped == ["tests/test_calc.py::test_skip"]
    assert res.counts == {"failed": 2, "passed": 1, "skipped": 1}
    assert res.excerpts["tests/test_calc.py::test_sub"].splitlines() == [
        "E       AssertionError: subtraction is broken", "E       assert (2 - 2) == 1",
        "tests/test_calc.py:5: AssertionError"]
    assert "ValueError: boom" in res.excerpts["tests/test_calc.py::TestX::test_m[1-2]"]


def test_pytest_collection_error() -> None:
    text = ("==================================== ERRORS ====================================\n"
            "_____________________ ERROR collecting tests/test_bad.py ______________________\n"
            "tests/test_bad.py:1: in <module>\n    import nope\n"
            "E   ModuleNotFoundError: No module named 'nope'\n"
            "=========================== short test summary info ============================\n"
            "ERROR tests/test_bad.py\n"
            "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
            "1 error in 0.08s\n")
    res = parse_pytest(text)
    assert res.errored == ["tests/test_bad.py"] and res.counts == {"errors": 1}
    assert "No module named 'nope'" in res.excerpts["tests/test_bad.py"]


UNITTEST_311 = """\
test_error (test_u.TestU.test_error) ... ERROR
test_fail (test_u.TestU.test_fail) ... FAIL
test_ok (test_u.TestU.test_ok)
Checks one equals one. ... ok
test_skip (test_u.TestU.test_skip) ... skipped 'later'

======================================================================
ERROR: test_error (test_u.TestU.test_error)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/p/tests/test_u.py", line 8, in test_error
    raise KeyError("k")
KeyError: 'k'

======================================================================
FAIL: test_fail (test_u.TestU.test_fail)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/p/tests/test_u.py", line 6, in test_fail
    self.assertEqual(1, 2)
AssertionError: 1 != 2

----------------------------------------------------------------------
Ran 4 tests in 0.001s

FAILED (failures=1, errors=1, skipped=1)
"""


def test_unittest_output() -> None:
    res = parse_unittest(UNITTEST_311)
    assert res.passed == ["test_u.TestU.test_ok"]
    assert res.failed == ["test_u.TestU.test_fail"]
    assert res.errored == ["test_u.TestU.test_error"]
    assert res.skipped == ["test_u.TestU.test_skip"]
    assert res.excerpts["test_u.TestU.test_fail"].endswith("AssertionError: 1 != 2")
    assert "KeyError: 'k'" in res.excerpts["test_u.TestU.test_error"]
    assert res.counts == {"total": 4, "failed": 1, "errors": 1, "skipped": 1, "passed": 1}


def test_unknown_runner_output_is_parsed_by_whichever_parser_fits() -> None:
    framework, res = parse_output("make", "make: running\n" + _read("cargo_test.txt"))
    assert framework == "cargo" and res.failed == ["tests::subtracts"]
    framework, res = parse_output("other", "nothing recognisable here\n")
    assert framework == "other" and not res.found_anything
