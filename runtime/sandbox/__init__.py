"""Isolated execution of tests and commands.

``Sandbox.run`` / ``Sandbox.arun`` run one command under a backend (``bwrap``, ``docker``,
``local``) within ``Limits`` and return a ``RunResult``; ``TestRunner`` detects and runs a
project's tests and parses their output into a ``TestReport``.
"""

from __future__ import annotations

from runtime.sandbox.config import SandboxSettings
from runtime.sandbox.limits import Limits
from runtime.sandbox.result import KilledBy, RunResult, SandboxError, SandboxUnavailable
from runtime.sandbox.sandbox import Sandbox
from runtime.sandbox.testing import NoTestCommand, TestCommand, TestReport, TestRunner

__all__ = [
    "KilledBy",
    "NoTestCommand",
    "Limits",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxSettings",
    "SandboxUnavailable",
    "TestCommand",
    "TestReport",
    "TestRunner",
]
