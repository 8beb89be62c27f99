"""Running a project's tests in the sandbox and reading their results."""

from __future__ import annotations

from runtime.sandbox.testing.detect import NoTestCommand, TestCommand, detect
from runtime.sandbox.testing.report import TestReport
from runtime.sandbox.testing.runner import TestRunner, parse_output

__all__ = ["NoTestCommand", "TestCommand", "TestReport", "TestRunner", "detect", "parse_output"]
