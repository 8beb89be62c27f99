"""What the screens look like (SVG snapshots at 80x24 and 160x48), and flows driven by a
scripted event source: long streams, @file mentions, approvals answered by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.config import load_settings

from tests.tui.conftest import FIX_CART, replay_settings, wait_for
from tests.tui.fake_session import FakeSession, fix_events, long_stream
from tui.app import EngramApp, services
from tui.app.screens.approval import ApprovalScreen
from tui.app.screens.setup import SetupScreen

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def fixed_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same model and sandbox on every machine, so snapshots compare."""
    monkeypatch.setattr(services, "probe", lambda root, settings, chat_model=None: services.Probe(
        "replay:fix.jsonl", 128_000, "", "bwrap", "", True))


def _app(shop: Path, session: FakeSession) -> EngramApp:
    return EngramApp(shop, replay_settings(FIX_CART, shop), policy="suggest",
                     session_factory=lambda settings, policy: session, background_index=False)


def _steady_cursor(app: Any) -> None:
    """A blinking cursor would make the pictures differ from run to run."""
    for widget in app.query("Input"):
        widget.cursor_blink = False


async def _run_task(pilot: Any) -> None:
    app = pilot.app
    _steady_cursor(app)
    await wait_for(pilot, lambda: app.status_bar.info.sandbox == "bwrap" and app.project_files)
    await pilot.press(*"fix the discount", "enter")
    await wait_for(pilot, lambda: not app.task_running and "■ success" in app.conversation.plain_text())
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_snapshot_after_a_task(snap_compare: Any, shop: Path, fixed_probe: None, size: tuple[int, int]) -> None:
    assert snap_compare(_app(shop, FakeSession(fix_events())), terminal_size=size, run_before=_run_task)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_snapshot_edit_approval(snap_compare: Any, shop: Path, fixed_probe: None, size: tuple[int, int]) -> None:
    async def until_dialog(pilot: Any) -> None:
        app = pilot.app
        _steady_cursor(app)
        await wait_for(pilot, lambda: app.status_bar.info.sandbox == "bwrap" and app.project_files)
        await pilot.press(*"fix the discount", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.pause()

    assert snap_compare(_app(shop, FakeSession(fix_events(approval=True))), terminal_size=size,
                        run_before=until_dialog)


def test_snapshot_changes_tab_narrow(snap_compare: Any, shop: Path, fixed_probe: None) -> None:
    async def changes(pilot: Any) -> None:
        await _run_task(pilot)
        pilot.app.show_tab("changes")
        await pilot.pause()

    assert snap_compare(_app(shop, FakeSession(fix_events())), terminal_size=(80, 24), run_before=changes)


def test_snapshot_first_run_setup(snap_compare: Any, shop: Path, fixed_probe: None) -> None:
    # the built-in defaults (not the replay script's path, which differs between checkouts)
    app = EngramApp(shop, load_settings(None), setup=True, background_index=False)

    async def setup(pilot: Any) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SetupScreen))
        _steady_cursor(pilot.app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=setup)


async def test_approval_by_key_reaches_the_session(shop: Path) -> None:
    session = FakeSession(fix_events(approval=True))
    app = _app(shop, session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix the discount", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.task_running)
        assert session.answers == [("r1", True)] and session.rejected_hunks == [{}]
        assert [f.patch.path for f in app.changes_panel.files] == ["shop/prices.py"]


async def test_mentioned_file_is_completed_and_pinned_into_the_task(shop: Path) -> None:
    session = FakeSession(fix_events())
    app = _app(shop, session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(app.project_files))
        await pilot.press(*"look at @shop/pr")
        await wait_for(pilot, lambda: app.query_one("#prompt").value.endswith("@shop/pr")
                       and app.query_one("#prompt")._suggestion.endswith("shop/prices.py"))
        await pilot.press("tab")
        assert app.query_one("#prompt").value == "look at @shop/prices.py"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.task_running and session.tasks)
        assert session.tasks == ["look at @shop/prices.py"]  # the mention stays in the task
        assert session.pinned == [["shop/prices.py"]]
        assert app.pinned == ["shop/prices.py"]


async def test_five_thousand_streamed_lines_stay_scrollable(shop: Path) -> None:
    app = _app(shop, FakeSession(long_stream(5_000)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"stream", "enter")
        await wait_for(pilot, lambda: not app.task_running, 60)
        conversation = app.conversation
        assert conversation.line_count >= 4_000 and not conversation.streaming
        text = conversation.plain_text()
        assert "value_4901 = compute(4901)" in text and "4999 with bold and code words." in text
        # every streamed line is there (prose lines merge into wrapped paragraphs, so compare
        # the words, not the rows)
        words = " ".join(text.split())
        lost = [i for i in range(5_000) if i % 50 and (
            f"value_{i} = compute({i}) # line {i}" if (i // 50) % 2 == 0
            else f"Paragraph line {i} with bold and code words.") not in words]
        assert lost == []
        assert conversation.scroll_offset.y == conversation.max_scroll_y  # followed the stream


async def test_skipping_setup_does_not_repeat_the_start_up_notes(shop: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    note = "DEEPSEEK_API_KEY is not set, so Engram uses the local model smollm2"
    probes: list[int] = []

    def probe(root: Path, settings: Any, chat_model: Any = None) -> services.Probe:
        probes.append(1)
        return services.Probe("local:smollm2", 8192, note, "bwrap", "", True)

    monkeypatch.setattr(services, "probe", probe)
    app = EngramApp(shop, load_settings(None), setup=True, background_index=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SetupScreen) and probes)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(probes) >= 2 and not isinstance(app.screen, SetupScreen))
        await pilot.pause(0.2)
        assert app.conversation.plain_text().count("DEEPSEEK_API_KEY is not set") == 1
