from __future__ import annotations

import subprocess
import sys

from tui.cli import main


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("engram ")


def test_help_lists_usage(capsys) -> None:
    assert main(["--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error_not_a_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "no-such-command"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
