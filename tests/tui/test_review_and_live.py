"""Flows driven by the scripted session: leaving hunks out of an edit set before it is
applied, test output arriving live, @file pins and the agent's answer about them, and an
app message arriving in the middle of a streamed answer."""

from __future__ import annotations

from pathlib import Path

from agent import events as ev  # (its TestRunFinished is no test class for pytest to collect)
from agent.events import (
    AssistantMessage, ContextReady, MessageDelta, SessionFinished, SessionStarted, TestOutput,
)

from tests.tui.conftest import FIX_CART, replay_settings, screen_text, wait_for
from tests.tui.fake_session import FakeSession, Hold, fix_events, review_events
from tui.app import EngramApp
from tui.app.screens.approval import ApprovalScreen
from tui.app.widgets.diff_view import DiffView


def _app(shop: Path, session: FakeSession) -> EngramApp:
    return EngramApp(shop, replay_settings(FIX_CART, shop), policy="suggest",
                     session_factory=lambda settings, policy: session, background_index=False)


async def test_a_hunk_left_out_by_key_is_reported_and_shown_rejected(shop: Path) -> None:
    session = FakeSession(review_events())
    app = _app(shop, session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix both", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        dialog = app.screen
        assert dialog.selection.total == 3  # cart.py: 2 hunks, prices.py: 1
        await pilot.press("j", "space")  # the second hunk of shop/cart.py
        assert dialog.selection.rejected_hunks() == {"shop/cart.py": [1]}
        await pilot.pause()
        text = screen_text(app)
        assert "Apply 2 of 3 hunks (y)" in text and "left out" in text
        await pilot.press("space", "space")  # off and on again: still left out once
        # a click on prices.py's hunk leaves it out, a second click brings it back
        view = dialog.query_one("#approval-diff", DiffView)
        row = view._hunk_rows[(1, 0)]
        view.scroll_to(y=row, animate=False)
        await pilot.pause()
        await pilot.click("#approval-diff", offset=(4, row - view.scroll_offset.y))
        assert dialog.selection.rejected_hunks() == {"shop/cart.py": [1], "shop/prices.py": [0]}
        await pilot.click("#approval-diff", offset=(4, row - view.scroll_offset.y))
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.task_running)
        assert session.answers == [("r7", True)]
        assert session.rejected_hunks == [{"shop/cart.py": [1]}]
        assert "edit approved by you (1 hunk left out)" in app.conversation.plain_text()
        cart = next(f for f in app.changes_panel.files if f.patch.path == "shop/cart.py")
        assert cart.states == ["pending", "rejected"]  # the Changes tab knows it never applied


async def test_leaving_every_hunk_out_is_a_rejection(shop: Path) -> None:
    session = FakeSession(review_events())
    app = _app(shop, session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix both", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("f", "j", "j", "f")  # shop/cart.py off, then shop/prices.py off
        assert app.screen.selection.kept == 0
        await pilot.pause()
        assert "Nothing kept: reject (y)" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.task_running)
        assert session.answers == [("r7", False)] and session.rejected_hunks == [{}]


async def test_test_output_streams_into_sections_then_the_failures(shop: Path) -> None:
    hold = Hold()
    events = [
        SessionStarted(task="t", root="/repo", model="fake", policy="suggest"),
        TestOutput(command="pytest -q tests/test_cart.py", scope="targeted",
                   lines=["\x1b[1mcollected 2 items\x1b[0m", "tests/test_cart.py .F"]),
        hold,
        TestOutput(command="pytest -q tests/test_cart.py", scope="targeted",
                   lines=["____ test_total ____", "E   assert 3 == 6"]),
        ev.TestRunFinished(command="pytest -q tests/test_cart.py", scope="targeted", ok=False,
                        passed=1, failed=["tests/test_cart.py::test_total"], errored=[],
                        headline="1 failed, 1 passed", excerpt="E   assert 3 == 6"),
        TestOutput(command="pytest -q", scope="suite", lines=["..", "2 passed"]),
        ev.TestRunFinished(command="pytest -q", scope="suite", ok=True, passed=2, failed=[],
                        errored=[], headline="2 passed", excerpt=""),
        SessionFinished(status="success", reason="green", tests="green"),
    ]
    app = _app(shop, FakeSession(events))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.tests_panel
        await pilot.press(*"run them", "enter")
        await wait_for(pilot, lambda: hold.reached.is_set() and "items" in panel.output_text)
        # live, before the run finished: its lines, no escape codes, a running status
        assert panel.output_text.splitlines() == [
            "$ pytest -q tests/test_cart.py  (targeted)", "collected 2 items", "tests/test_cart.py .F"]
        assert "running" in panel.status_text and "2 lines" in panel.status_text
        hold.released.set()
        await wait_for(pilot, lambda: not app.task_running)
        lines = panel.output_text.splitlines()
        assert lines[3:6] == ["____ test_total ____", "E   assert 3 == 6",
                              "── failed: 1 passed, 1 failed, 0 errored ──"]
        assert lines[7] == "$ pytest -q  (suite)" and lines[-1] == "── ok: 2 passed, 0 failed, 0 errored ──"
        assert lines.count("E   assert 3 == 6") == 1  # the excerpt is not repeated after live output
        assert "green" in panel.status_text


async def test_failures_of_a_run_without_live_output_are_listed_with_its_excerpt(shop: Path) -> None:
    events = [SessionStarted(task="t", root="/repo", model="fake", policy="suggest"),
              ev.TestRunFinished(command="python -m unittest", scope="suite", ok=False, passed=0,
                              failed=["test_total (tests.test_cart.CartTest.test_total)"],
                              errored=[], headline="1 failed", excerpt="FAIL: test_total\nAssertionError"),
              SessionFinished(status="failed", reason="red", tests="red")]
    app = _app(shop, FakeSession(events))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press(*"run", "enter")
        await wait_for(pilot, lambda: not app.task_running)
        failures = app.tests_panel.query_one("#tests-failures")
        assert failures.display and failures.option_count == 1
        assert app.tests_panel.output_text.splitlines()[:3] == [
            "$ python -m unittest  (suite)", "FAIL: test_total", "AssertionError"]


async def test_pins_go_to_the_agent_and_the_ones_it_refuses_are_dropped(shop: Path) -> None:
    session = FakeSession(fix_events(), unpinnable={"docs/missing.md": "no such file"})
    app = _app(shop, session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(app.project_files))
        await pilot.press(*"fix @shop/prices.py, see @docs/missing.md", "enter")
        await wait_for(pilot, lambda: not app.task_running and session.tasks)
        assert session.tasks == ["fix @shop/prices.py, see @docs/missing.md"]
        assert session.pinned == [["shop/prices.py", "docs/missing.md"]]
        shown = app.conversation.plain_text()
        assert "pinned: shop/prices.py" in shown
        assert "⚠ not pinned: docs/missing.md: no such file" in shown
        assert app.pinned == ["shop/prices.py"]
        await pilot.press(*"/unpin", "enter", *"again", "enter")
        await wait_for(pilot, lambda: not app.task_running and len(session.tasks) == 2)
        assert session.pinned[1] == []


async def test_a_message_in_the_middle_of_a_streamed_line_does_not_break_the_answer(shop: Path) -> None:
    hold = Hold()
    events = [SessionStarted(task="t", root="/repo", model="fake", policy="suggest"),
              ContextReady(mode="whole-repo", context_tokens=10, files=[], memories=0,
                           conventions=0, window=1000),
              MessageDelta(text="Use `total(prices)` and `"), hold,
              MessageDelta(text="len(prices)` here.\n\nDone."),
              AssistantMessage(text="", step=1), SessionFinished(status="success", reason="ok")]
    app = _app(shop, FakeSession(events))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"explain", "enter")
        await wait_for(pilot, lambda: hold.reached.is_set())
        await pilot.pause(0.1)
        await pilot.press(*"more", "enter")  # refused while the task runs: said inline
        hold.released.set()
        await wait_for(pilot, lambda: not app.task_running)
        shown = app.conversation.plain_text()
        assert "Use total(prices) and len(prices) here." in " ".join(shown.split())
        assert "`" not in shown and "a task is running" in shown
