"""``engram run`` headless: explicit policy, JSON lines, exit codes; --branch and --commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.events import parse_event
from tests.agent.loop.conftest import (
    SCRIPTS, SHOP_FILES, UNITTEST, git_out, script_steps, write_script,
)
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


def test_headless_resume_keeps_the_sessions_policy_or_takes_an_override(
        cli_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "fix the total", "-C", str(cli_repo), "--policy", "suggest", "--json",
                 "--model", f"replay:{SCRIPTS / 'approval.jsonl'}"])
    first = [parse_event(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2
    sid = first[0].session_id
    rest = write_script(tmp_path / "rest.jsonl", script_steps("approval")[2:])
    # no --policy: the session's own (suggest) applies, so it asks again and pauses again
    code = main(["run", "--resume", sid, "-C", str(cli_repo), "--json", "--model", f"replay:{rest}"])
    again = [parse_event(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2 and again[0].policy == "suggest" and again[-1].status == "paused"  # type: ignore[attr-defined]
    # --policy on resume overrides it
    code = main(["run", "--resume", sid, "-C", str(cli_repo), "--json", "--policy", "full-auto",
                 "--model", f"replay:{rest}"])
    done = [parse_event(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and done[0].policy == "full-auto" and done[-1].status == "success"  # type: ignore[attr-defined]


def test_pin_option_pins_files_and_is_refused_with_resume(cli_repo: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (cli_repo / "STYLE.md").write_text("money in cents\n")
    code = main(["run", "fix the total", "-C", str(cli_repo), "--policy", "full-auto", "--json",
                 "--pin", "STYLE.md", "--pin", "nope.md",
                 "--model", f"replay:{SCRIPTS / 'two_file_fix.jsonl'}"])
    events = [parse_event(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert next(e for e in events if e.type == "context_ready").pinned == ["STYLE.md"]  # type: ignore[attr-defined]
    assert any(e.type == "notice" and "nope.md" in e.text for e in events)  # type: ignore[attr-defined]
    assert main(["run", "--resume", "abc", "-C", str(cli_repo), "--pin", "STYLE.md", "--json"]) == 1
    assert "--pin applies to a new task" in capsys.readouterr().err


def test_people_see_one_quiet_line_per_test_run_not_every_output_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    from agent.events import TestOutput, TestRunFinished
    from tui.commands.agent_cmds import EventPrinter

    printer = EventPrinter(as_json=False)
    for batch in (["line 1", "line 2"], ["line 3"]):
        printer.show(TestOutput(command="python -m unittest", scope="suite", lines=batch))
    printer.show(TestRunFinished(command="python -m unittest", scope="suite", ok=True, passed=3,
                                 failed=[], errored=[], headline="3 passed", excerpt=""))
    out = capsys.readouterr().out
    assert out.count("running tests (suite)") == 1 and "line 2" not in out and "3 passed" in out
