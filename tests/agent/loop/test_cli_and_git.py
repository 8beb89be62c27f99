"""``engram run`` headless: explicit policy, JSON lines, exit codes; --branch and --commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.events import parse_event
from tests.agent.loop.conftest import SCRIPTS, SHOP_FILES, UNITTEST, git_out
from tui.cli import main


@pytest.fixture
def cli_repo(shop_repo: Path) -> Path:
    (shop_repo / ".engram").mkdir(exist_ok=True)
    (shop_repo / ".engram" / "config.toml").write_text(f'[sandbox]\ntest_command = "{UNITTEST}"\n')
    return shop_repo


def test_headless_run_without_policy_refuses(cli_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "fix it", "-C", str(cli_repo), "--model", f"replay:{SCRIPTS / 'two_file_fix.jsonl'}", "--json"])
    err = capsys.readouterr().err
    assert code == 1 and "need an explicit --policy" in err
    assert (cli_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]


def test_json_run_streams_events_and_exits_zero_when_green(cli_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "fix the total", "-C", str(cli_repo), "--policy", "full-auto", "--json",
                 "--model", f"replay:{SCRIPTS / 'two_file_fix.jsonl'}"])
    lines = capsys.readouterr().out.splitlines()
    events = [parse_event(line) for line in lines]  # every line is one valid event
    assert code == 0 and events[-1].type == "finished" and events[-1].status == "success"
    assert json.loads(lines[0])["type"] == "session_started"


def test_exit_code_is_nonzero_when_tests_stay_red(cli_repo: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "fix the total", "-C", str(cli_repo), "--policy", "full-auto", "--json",
                 "--max-steps", "3", "--model", f"replay:{SCRIPTS / 'never_green.jsonl'}"])
    final = parse_event(capsys.readouterr().out.splitlines()[-1])
    assert code == 1 and final.status == "stopped"  # type: ignore[attr-defined]


def test_headless_suggest_pauses_with_exit_code_2(cli_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "fix the total", "-C", str(cli_repo), "--policy", "suggest", "--json",
                 "--model", f"replay:{SCRIPTS / 'approval.jsonl'}"])
    final = parse_event(capsys.readouterr().out.splitlines()[-1])
    assert code == 2 and final.status == "paused" and "--resume" in final.reason  # type: ignore[attr-defined]


def test_bad_policy_and_missing_task_are_one_line_errors(cli_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "x", "-C", str(cli_repo), "--policy", "yolo"]) == 1
    assert "unknown approval policy 'yolo'" in capsys.readouterr().err
    assert main(["run", "-C", str(cli_repo), "--policy", "full-auto"]) == 1
    assert "give a task" in capsys.readouterr().err


def test_without_git_flags_the_users_index_and_branch_are_untouched(
        cli_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cli_repo / "notes.txt").write_text("staged by the user\n")
    git_out(cli_repo, "add", "notes.txt")
    head = git_out(cli_repo, "rev-parse", "HEAD")
    main(["run", "fix", "-C", str(cli_repo), "--policy", "full-auto", "--json",
          "--model", f"replay:{SCRIPTS / 'two_file_fix.jsonl'}"])
    assert git_out(cli_repo, "rev-parse", "HEAD") == head
    assert git_out(cli_repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_branch_and_commit_commit_only_the_task_files(cli_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for var, value in (("GIT_AUTHOR_NAME", "T"), ("GIT_AUTHOR_EMAIL", "t@example.com"),
                       ("GIT_COMMITTER_NAME", "T"), ("GIT_COMMITTER_EMAIL", "t@example.com")):
        monkeypatch.setenv(var, value)
    (cli_repo / "notes.txt").write_text("staged by the user\n")
    git_out(cli_repo, "add", "notes.txt")
    code = main(["run", "fix the discounted total", "-C", str(cli_repo), "--policy", "full-auto",
                 "--json", "--branch", "engram/fix", "--commit",
                 "--model", f"replay:{SCRIPTS / 'two_file_fix.jsonl'}"])
    final = parse_event(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and final.commit and final.branch == "engram/fix"  # type: ignore[attr-defined]
    assert git_out(cli_repo, "branch", "--show-current").strip() == "engram/fix"
    files = git_out(cli_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == ["shop/cart.py", "shop/prices.py"]
    message = git_out(cli_repo, "log", "-1", "--format=%B")
    assert message.startswith("fix the discounted total") and "Tests: green" in message
    # the user's staged work is still staged, and not in the commit
    assert git_out(cli_repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
