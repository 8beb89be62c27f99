"""The real ``engram`` binary in a real terminal (tmux): type a task, read the screen."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.conftest import FIX_CART, UNITTEST

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (apt-get install -y tmux)")


def _engram() -> str:
    found = shutil.which("engram")
    return shlex.quote(found) if found else f"{shlex.quote(sys.executable)} -m tui.cli"


def test_engram_in_tmux_runs_a_task_to_green(shop: Path, tmp_path: Path) -> None:
    socket = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", socket]
    env = {**os.environ, "TERM": "xterm-256color", "ENGRAM_SANDBOX__TEST_COMMAND": UNITTEST}
    env.pop("TMUX", None)
    command = (f"cd {shlex.quote(str(shop))} && {_engram()} chat . "
               f"--model replay:{shlex.quote(str(FIX_CART))} --policy full-auto")

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "engram"], capture_output=True,
                              text=True, env=env).stdout

    def wait_for(text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen()}")

    subprocess.run([*tmux, "new-session", "-d", "-s", "engram", "-x", "120", "-y", "60", command],
                   check=True, env=env)
    try:
        wait_for("Ask Engram", 30)
        subprocess.run([*tmux, "send-keys", "-t", "engram", "-l", "fix the discounted total"],
                       check=True, env=env)
        subprocess.run([*tmux, "send-keys", "-t", "engram", "Enter"], check=True, env=env)
        # The pane is tall enough that the whole short run stays on screen (Textual draws on the
        # alternate screen, so lines that scroll away cannot be captured afterwards).
        wait_for("› fix the discounted total", 30)
        shown = wait_for("■ success", 60)
        assert "tests green" in shown, shown
        assert "return price * (100 - pct) / 100" in (shop / "shop/prices.py").read_text()
        subprocess.run([*tmux, "send-keys", "-t", "engram", "C-q"], env=env)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)
