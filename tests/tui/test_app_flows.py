"""The app's main flows with the real agent session and the replay model: send a task, see
the plan, approve the edit set, watch the tests go green, undo; errors stay inline."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tui.conftest import FIX_CART, SHOP_FILES, UNITTEST, replay_settings, screen_text, wait_for
from tui.app import EngramApp
from tui.app.screens.approval import ApprovalScreen
from tui.app.screens.history import HistoryScreen


def _tests_pass(repo: Path) -> bool:
    return subprocess.run(UNITTEST.split(), cwd=repo, capture_output=True).returncode == 0


async def test_task_plan_approval_green_tests_and_undo(shop: Path) -> None:
    app = EngramApp(shop, replay_settings(FIX_CART, shop), policy="suggest")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press(*"fix the discounted total", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), 60)
        # the plan is on screen as a checklist before anything is applied
        assert "Make total in shop/cart.py sum every price." in app.plan_panel.text
        assert not _tests_pass(shop)
        dialog = screen_text(app)
        assert "Apply these edits?" in dialog and "return price * (100 - pct) / 100" in dialog
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.task_running, 60)

        shown = app.conversation.plain_text()
        assert "edit approved by you" in shown and "■ success" in shown
        assert "green" in app.tests_panel.status_text
        assert _tests_pass(shop)
        assert sorted(f.patch.path for f in app.changes_panel.files) == ["shop/cart.py", "shop/prices.py"]
        assert app.plan_panel.text.count("☑") == 3
        assert app.status_bar.info.total_tokens > 0
        assert app.files_panel.changed == {"shop/cart.py", "shop/prices.py"}

        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: "↶ undone" in app.conversation.plain_text(), 30)
        assert (shop / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
        assert (shop / "shop/cart.py").read_text() == SHOP_FILES["shop/cart.py"]
        assert app.changes_panel.changed_paths == set()


async def test_rejecting_an_edit_set_leaves_the_files_alone(shop: Path) -> None:
    app = EngramApp(shop, replay_settings(FIX_CART, shop), policy="suggest")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix it", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), 60)
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.task_running, 60)
        assert "edit rejected by you" in app.conversation.plain_text()
        assert (shop / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
        assert app.changes_panel.files == []


async def test_reject_one_hunk_then_undo_brings_it_back(shop: Path) -> None:
    app = EngramApp(shop, replay_settings(FIX_CART, shop), policy="auto-edit")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press(*"fix it", "enter")
        await wait_for(pilot, lambda: not app.task_running, 60)
        assert "approved by the auto-edit policy" in app.conversation.plain_text()
        panel = app.changes_panel
        app.show_tab("changes")
        await pilot.pause()
        cart = next(i for i, f in enumerate(panel.files) if f.patch.path == "shop/cart.py")
        panel.selected, panel.hunk = cart, 0
        panel.refresh_view()
        app.query_one("#changes-diff").focus()
        await pilot.press("d")
        await wait_for(pilot, lambda: panel.files[cart].states == ["rejected"], 30)
        assert (shop / "shop/cart.py").read_text() == SHOP_FILES["shop/cart.py"]
        assert "return price * (100 - pct) / 100" in (shop / "shop/prices.py").read_text()
        assert "shop/cart.py" not in app.files_panel.changed

        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: "↶ undone" in app.conversation.plain_text(), 30)
        assert "for p in prices)" in (shop / "shop/cart.py").read_text()


async def test_model_error_is_shown_inline_and_the_app_keeps_working(shop: Path, tmp_path: Path) -> None:
    app = EngramApp(shop, replay_settings(tmp_path / "missing.jsonl", shop), background_index=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix it", "enter")
        await wait_for(pilot, lambda: not app.task_running and "error" in app.conversation.plain_text(), 60)
        assert "missing.jsonl" in app.conversation.plain_text()
        await pilot.press(*"/policy full-auto", "enter")
        await pilot.pause()
        assert app.policy == "full-auto" and app.status_bar.info.policy == "full-auto"
        await pilot.press(*"/policy sometimes", "enter")
        await pilot.press(*"/nope", "enter")
        await pilot.pause()
        shown = app.conversation.plain_text()
        assert "unknown approval policy 'sometimes'" in shown and "unknown command /nope" in shown


async def test_history_lists_the_session_and_resumes_it(shop: Path) -> None:
    app = EngramApp(shop, replay_settings(FIX_CART, shop), policy="full-auto", background_index=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press(*"fix it", "enter")
        await wait_for(pilot, lambda: not app.task_running, 60)
        sid = app.session.session_id
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.sessions, 30)
        assert app.screen.sessions[0].id == sid and app.screen.sessions[0].status == "success"
        await pilot.press("enter")
        await wait_for(pilot, lambda: f"resume {sid}" in app.conversation.plain_text() and not app.task_running, 30)
        # a finished session reports its outcome again and changes nothing
        assert app.conversation.plain_text().count("■ success") == 2


async def test_folder_that_is_not_a_git_repository_works_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "notes.py").write_text("x = 1\n")
    app = EngramApp(folder, replay_settings(FIX_CART, folder), background_index=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "not a git repository" in app.conversation.plain_text(), 30)
        await wait_for(pilot, lambda: app.project_files == ["notes.py"], 30)


async def test_a_file_left_out_in_the_approval_dialog_is_not_touched(shop: Path) -> None:
    app = EngramApp(shop, replay_settings(FIX_CART, shop), policy="suggest")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"fix it", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), 60)
        dialog = app.screen
        cart = [p.path for p in dialog.selection.patches].index("shop/cart.py")
        first = [f for f, _ in dialog.selection.positions()].index(cart)
        await pilot.press(*["j"] * first, "f", "y")
        await wait_for(pilot, lambda: "edit approved by you" in app.conversation.plain_text(), 60)
        await wait_for(pilot, lambda: app.changes_panel.files, 60)
        assert (shop / "shop/cart.py").read_text() == SHOP_FILES["shop/cart.py"]
        assert "return price * (100 - pct) / 100" in (shop / "shop/prices.py").read_text()
        assert [f.patch.path for f in app.changes_panel.files] == ["shop/prices.py"]
        assert "edit approved by you (1 hunk left out)" in app.conversation.plain_text()
        await wait_for(pilot, lambda: not app.task_running, 60)  # the cart test stays red
        assert "tests red" in app.conversation.plain_text()
