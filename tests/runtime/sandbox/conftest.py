"""Sandboxes for the tests: the real bwrap backend (skipped where it cannot run) and the
local one, with tight limits so no bad input can hang the test run."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.sandbox import Limits, Sandbox, SandboxSettings
from runtime.sandbox.bwrap import BwrapBackend

MIB = 1024 * 1024
TIGHT = Limits(wall_s=20, memory_bytes=1024 * MIB, processes=64, file_size_bytes=16 * MIB,
               output_bytes=64 * 1024, output_kill_bytes=4 * MIB)


@pytest.fixture(scope="session")
def bwrap_problem() -> str | None:
    return BwrapBackend().probe()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture
def bwrap_sandbox(workdir: Path, bwrap_problem: str | None) -> Sandbox:
    if bwrap_problem is not None:
        pytest.skip(f"bwrap unavailable here: {bwrap_problem}")
    return Sandbox(SandboxSettings(backend="bwrap"), workdir)


@pytest.fixture
def local_sandbox(workdir: Path) -> Sandbox:
    return Sandbox(SandboxSettings(backend="local"), workdir)


@pytest.fixture(params=["bwrap", "local"])
def any_sandbox(request: pytest.FixtureRequest, workdir: Path, bwrap_problem: str | None) -> Sandbox:
    if request.param == "bwrap" and bwrap_problem is not None:
        pytest.skip(f"bwrap unavailable here: {bwrap_problem}")
    return Sandbox(SandboxSettings(backend=request.param), workdir)


def marker() -> str:
    """A string unique to one test, to put into a command line."""
    return f"engram-test-{uuid.uuid4().hex[:12]}"


def alive(mark: str) -> list[int]:
    """Pids of live processes whose command line contains ``mark`` (zombies excluded)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                if mark.encode() in fh.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


def settle_alive(mark: str, wait_s: float = 0.5) -> list[int]:
    """``alive`` after giving SIGKILLed processes a moment to be reaped."""
    deadline = time.monotonic() + wait_s
    while (pids := alive(mark)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pids


@pytest.fixture
def tight() -> Limits:
    """Limits small enough that no bad input can hang the test run."""
    return TIGHT


@pytest.fixture
def procs() -> SimpleNamespace:
    """``marker()``, ``alive(mark)`` and ``settle_alive(mark)`` for the tests."""
    return SimpleNamespace(marker=marker, alive=alive, settle_alive=settle_alive)
