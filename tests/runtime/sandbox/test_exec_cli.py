"""``engram exec`` and ``engram test``: exit codes, reasons on stderr, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from tui.cli import main


@pytest.fixture
def project(make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
            bwrap_problem: str | None) -> Path:
    root = make_repo({"pytest.ini": "[pytest]\n",
                      "test_a.py": "def test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n"})
    monkeypatch.chdir(root)
    if bwrap_problem is not None:
        monkeypatch.setenv("ENGRAM_SANDBOX__BACKEND", "local")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ENGRAM_SANDBOX__ENV_ALLOW", '["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]')
    return root


def test_exec_passes_the_exit_code_and_output(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "--", "sh", "-c", "echo hello; exit 3"]) == 3
    assert capfd.readouterr().out == "hello\n"


def test_exec_timeout_is_124_with_the_reason(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "--timeout", "0.5", "--", "sleep", "30"]) == 124
    err = capfd.readouterr().err
    assert "killed (timeout)" in err and "0.5s" in err


def test_exec_limit_kill_is_137(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["exec", "--", sys.executable, "-c", "b = bytearray(10 * 1024**3)"])
    assert code == 137
    assert "killed (memory)" in capfd.readouterr().err


def test_exec_missing_command_is_127(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "--", "no-such-tool-xyz"]) == 127
    assert "no-such-tool-xyz" in capfd.readouterr().err


def test_exec_json(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "--json", "--", "echo", "a;b"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert data["stdout"] == "a;b\n" and data["ok"] is True and data["killed_by"] is None


def test_exec_unavailable_backend_is_one_line_error(project: Path) -> None:
    env = {**os.environ, "ENGRAM_SANDBOX__BACKEND": "docker", "DOCKER_HOST": "unix:///nonexistent.sock"}
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "exec", "--", "true"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: the docker sandbox backend is unavailable")
    assert "Traceback" not in proc.stderr


def test_test_command_summarises_failures(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "-q"]) == 1
    out = capfd.readouterr().out
    assert "pytest: FAILED - 1 failed, 1 passed" in out and "FAILED test_a.py::test_bad" in out
    assert main(["test", "--json", "test_a.py::test_ok"]) == 0
    assert json.loads(capfd.readouterr().out)["passed"] == ["test_a.py::test_ok"]
