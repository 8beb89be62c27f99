"""Fixtures of the app tests: a small repository with a failing test, replay settings, and
helpers to wait for the app and read its screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.shop_fixture import SHOP_FILES, UNITTEST

from agent.config import EngramSettings, load_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIX_CART = FIXTURES / "fix_cart.jsonl"



@pytest.fixture
def shop(make_repo: Callable[..., Path]) -> Path:
    """A repository whose one test fails because of a bug in each of two files."""
    return make_repo(SHOP_FILES, name="shop")


def replay_settings(script: Path | str, root: Path | None = None) -> EngramSettings:
    """Settings that answer with ``script`` and run the fast unittest command."""
    base = load_settings(root)
    return base.model_copy(update={
        "model": base.model.model_copy(update={"provider": "replay", "model": str(script)}),
        "sandbox": base.sandbox.model_copy(update={"test_command": UNITTEST}),
    })


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


def screen_text(app: Any) -> str:
    """The screen as plain text, the way a terminal shows it."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())
