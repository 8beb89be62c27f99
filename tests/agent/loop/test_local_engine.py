"""End-to-end wiring with the local engine and SmolLM2: whatever the small model writes, the
loop ends cleanly with a clear status."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from agent.session import Session
from tests.agent.loop.conftest import collect, settings_for

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _smollm2() -> Path | None:
    """The pulled model: $ENGRAM_TEST_SMOLLM2, or the real user's model cache (the test
    isolates HOME, so look it up through the password database)."""
    explicit = os.environ.get("ENGRAM_TEST_SMOLLM2")
    candidates = [Path(explicit)] if explicit else []
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    candidates.append(home / ".cache" / "engram" / "models" / SMOLLM2_FILE)
    return next((p for p in candidates if p.is_file()), None)


@pytest.mark.slow
async def test_smollm2_run_ends_cleanly_with_a_clear_status(shop_repo: Path) -> None:
    model_path = _smollm2()
    if model_path is None:
        pytest.skip("SmolLM2 is not pulled (engram model pull smollm2, or set ENGRAM_TEST_SMOLLM2)")
    pytest.importorskip("runtime.engine.chat_model")
    settings = settings_for("unused", max_steps=2, max_repairs=1, context_mode="navigator",
                            map_tokens=200, files_tokens=0)
    settings = settings.model_copy(update={"model": settings.model.model_copy(update={
        "provider": "local", "model": str(model_path), "max_output_tokens": 32,
        "context_window": 8192})})
    events = await collect(Session(shop_repo, settings, policy="full-auto").run(
        "Fix the discounted total so test_discounted_total passes."))
    final = events[-1]
    assert final.type == "finished"
    assert final.status in {"success", "failed", "stopped"}, final.reason
    assert final.reason and final.steps >= 1
    assert events[0].type == "session_started" and "SmolLM2" in events[0].model
    print(f"SmolLM2 run: {final.status}: {final.reason}")
