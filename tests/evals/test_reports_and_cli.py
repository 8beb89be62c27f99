"""Reports (table, JSON, PNG) and the ``engram eval`` commands, including bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals.errors import EvalError
from evals.report import load_summary, print_summary, write_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SWE_SUMMARY = {
    "kind": "swebench", "model": "m", "harness": "local",
    "report": {"total_instances": 3, "resolved_instances": 1, "unresolved_instances": 1,
               "empty_patch_instances": 0, "error_instances": 1},
    "per_repo": {"a/b": {"instances": 2, "resolved": 1, "unresolved": 1, "empty_patch": 0, "error": 0},
                 "c/d": {"instances": 1, "resolved": 0, "unresolved": 0, "empty_patch": 0, "error": 1}},
    "instances": {"a__b-1": {"status": "resolved", "reason": "", "env_source": "row"},
                  "c__d-1": {"status": "error", "reason": "the model patch does not apply: x",
                             "env_source": "spec"}},
}


def test_swebench_summary_renders_a_table_and_a_chart(tmp_path: Path) -> None:
    console = Console(record=True, width=160)
    print_summary(SWE_SUMMARY, console)
    text = console.export_text()
    assert "a/b" in text and "total" in text and "50.0%" in text
    assert "the model patch does not apply" in text
    png = write_chart(SWE_SUMMARY, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="has no summary.json"):
        load_summary(tmp_path)
    (tmp_path / "summary.json").write_text('{"kind": "other"}')
    with pytest.raises(EvalError, match="is not an engram eval summary"):
        load_summary(tmp_path)


def test_humaneval_command_then_report_command(tmp_path: Path, eval_cli: Callable[..., Any]) -> None:
    run_dir = tmp_path / "run"
    result = eval_cli("eval", "humaneval", "--oracle", "canonical", "--limit", "3",
                      "--run-dir", str(run_dir), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["pass_at_k"] == {"pass@1": 1.0} and summary["model"] == "oracle:canonical"
    report = eval_cli("eval", "report", str(run_dir))
    assert report.exit_code == 0, report.output
    assert "HumanEval" in report.stdout and "100.0%" in report.stdout
    assert (run_dir / "chart.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("args, message", [
    (["eval", "humaneval"], "give either --model REF or --oracle canonical|empty"),
    (["eval", "humaneval", "--oracle", "perfect"], "unknown oracle 'perfect'"),
    (["eval", "humaneval", "--oracle", "empty", "--prompt", "poem"], "unknown prompt style"),
    (["eval", "humaneval", "--oracle", "empty", "--task", "HumanEval/500"], "unknown HumanEval task id"),
    (["eval", "swebench", "--dataset", "x.jsonl"], "give exactly one of --model"),
    (["eval", "swebench", "--dataset", "x.jsonl", "--oracle", "gold", "--harness", "cloud"],
     "unknown harness 'cloud'"),
    (["eval", "swebench", "--dataset", "missing.jsonl", "--oracle", "gold"], "dataset file not found"),
    (["eval", "report", "/nonexistent/run"], "is not a folder"),
])
def test_bad_input_is_one_line_and_exit_code_1(args: list[str], message: str, tmp_path: Path,
                                              eval_cli: Callable[..., Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = eval_cli(*args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_swebench_command_runs_the_gold_oracle(tmp_path: Path, eval_cli: Callable[..., Any],
                                               swe_fixtures: Any, env_cache: Path) -> None:
    repos, dataset, _ = swe_fixtures
    run_dir = tmp_path / "run"
    result = eval_cli("eval", "swebench", "--dataset", str(dataset), "--oracle", "gold",
                      "--repos-dir", str(repos), "--cache-dir", str(env_cache),
                      "--instance", "engram-fixtures__chunker-1", "--run-dir", str(run_dir),
                      "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["report"]["resolved_ids"] == ["engram-fixtures__chunker-1"]
    assert json.loads((run_dir / "report.json").read_text())["schema_version"] == 2


def test_humaneval_through_a_chat_model(tmp_path: Path, eval_cli: Callable[..., Any]) -> None:
    from evals.humaneval.dataset import load_problems

    first, second = load_problems(limit=2)
    answers = [f"Here it is:\n```python\n{first.prompt}{first.canonical_solution}```\nDone.",
               "```python\ndef separate_paren_groups(paren_string):\n    return []\n```"]
    script = tmp_path / "answers.jsonl"
    script.write_text("".join(json.dumps({"content": a}) + "\n" for a in answers))
    result = eval_cli("eval", "humaneval", "--model", f"replay:{script}", "--limit", "2",
                      "--batch", "1", "--run-dir", str(tmp_path / "run"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["per_task"] == {first.task_id: {"n": 1, "passed": 1},
                                   second.task_id: {"n": 1, "passed": 0}}
    assert summary["model"] == f"replay:{script}"
