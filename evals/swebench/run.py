"""A SWE-bench-style run: predictions (oracle, a file, or the agent), then evaluation, then
the report; every stage resumable, no instance able to stop the others.

Files in the run directory: ``config.json``, ``predictions.jsonl`` (official format),
``inference.jsonl`` and ``trajectories/`` (agent runs), ``evaluation.jsonl`` (one result per
instance), ``logs/<id>/test_output.txt`` and ``report.json`` (official per-instance),
``report.json`` (the official run report) and ``summary.json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from evals.errors import EvalError
from evals.machine import describe_machine
from evals.ray_fanout import fan_out
from evals.storage import JsonlWriter, ensure_run_dir, read_json, read_jsonl, write_json
from evals.swebench.dataset import Dataset, Instance, Stage, load_dataset, select
from evals.swebench.evaluate import EvalContext, evaluate_instance
from evals.swebench.inference import InferenceContext, solve_instance
from evals.swebench.report import official_report, per_repo
from runtime.sandbox import SandboxSettings

Harness = Literal["local", "official", "none"]
Oracle = Literal["gold", "empty"]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SweConfig:
    """What to run and how."""

    run_dir: Path
    dataset: str
    split: str = "test"
    instance_ids: tuple[str, ...] = ()
    limit: int | None = None
    oracle: Oracle | None = None
    predictions: Path | None = None
    """Evaluate this predictions file instead of running inference."""
    harness: Harness = "local"
    repos_dir: Path | None = None
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "engram" / "swebench")
    workers: int = 1
    ray_address: str | None = None
    test_timeout_s: float = 900.0
    install_timeout_s: float = 1800.0
    keep_workspaces: bool = False
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)


@dataclass(frozen=True)
class AgentSetup:
    """The agent side of inference (left out for oracles and predictions files)."""

    model_name: str
    chat_model: Callable[[], Any]
    settings: Any
    max_steps: int = 30
    max_cost_usd: float = 2.0


def run_swebench(config: SweConfig, agent: AgentSetup | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Run (or resume) the evaluation in ``config.run_dir``; return the summary."""
    started = time.time()
    run_dir = ensure_run_dir(config.run_dir)
    stage: Stage = "inference" if config.harness == "none" else "evaluation"
    dataset = select(load_dataset(config.dataset, stage, config.split), config.instance_ids,
                     config.limit)
    model = _model_name(config, agent)
    _check_identity(run_dir, config, model)
    predictions, inference = _predictions(config, agent, dataset, run_dir, model, progress)
    results = _row_problem_results(dataset)
    if config.harness == "local":
        results.update(_evaluate_local(config, dataset, predictions, inference, run_dir, progress))
    elif config.harness == "official":
        from evals.swebench.official import run_official

        official = run_official([i for i in dataset.instances if i.instance_id in predictions],
                                run_dir / "predictions.jsonl", run_dir, _slug(model),
                                config.workers, config.test_timeout_s)
        write_json(run_dir / "report.json", official)
        results.update(_from_official(dataset, official))
    report = official_report(dataset, predictions, results)
    write_json(run_dir / "report.json", report)
    summary = {
        "kind": "swebench", "model": model, "harness": config.harness,
        "dataset": dataset.source, "report": report, "per_repo": per_repo(results),
        "instances": {iid: {k: r.get(k, "") for k in ("status", "reason", "env_source", "repo")}
                      for iid, r in sorted(results.items())},
        "inference": {iid: {k: v for k, v in rec.items() if k != "model_patch"}
                      for iid, rec in inference.items()},
        "invalid_rows": [p.message for p in dataset.problems if not p.instance_id],
        "elapsed_s": round(time.time() - started, 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": describe_machine(),
    }
    write_json(run_dir / "summary.json", summary)
    return summary


def _model_name(config: SweConfig, agent: AgentSetup | None) -> str:
    if config.oracle:
        return f"oracle:{config.oracle}"
    if config.predictions is not None:
        return f"predictions:{config.predictions.name}"
    if agent is None:
        raise EvalError("give --model, --oracle gold|empty or --predictions FILE")
    return agent.model_name


def _check_identity(run_dir: Path, config: SweConfig, model: str) -> None:
    identity = {"kind": "swebench", "dataset": config.dataset, "model": model}
    path = run_dir / "config.json"
    if path.exists():
        old = read_json(path)
        for key, value in identity.items():
            if old.get(key) != value:
                raise EvalError(f"{run_dir} holds a run with {key} {old.get(key)!r}, not "
                                f"{value!r}; resume it with the same settings or use another "
                                f"--run-dir")
    write_json(path, {**identity, "harness": config.harness, "split": config.split})


def _predictions(config: SweConfig, agent: AgentSetup | None, dataset: Dataset, run_dir: Path,
                 model: str, progress: Progress | None
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    path = run_dir / "predictions.jsonl"
    if config.oracle or config.predictions is not None:
        if config.predictions is not None:
            given = read_predictions(config.predictions)
        else:
            given = {i.instance_id: {"instance_id": i.instance_id, "model_name_or_path": model,
                                     "model_patch": i.patch if config.oracle == "gold" else ""}
                     for i in dataset.instances}
        path.unlink(missing_ok=True)
        JsonlWriter(path).write_all(given.values())
        return given, {}
    assert agent is not None
    predictions = {p["instance_id"]: p for p in read_jsonl(path) if "instance_id" in p}
    inference = {r["instance_id"]: r for r in read_jsonl(run_dir / "inference.jsonl")
                 if "instance_id" in r}
    ctx = InferenceContext(
        repos_dir=config.repos_dir, cache_dir=config.cache_dir,
        scratch_dir=run_dir / "work", trajectories_dir=run_dir / "trajectories",
        settings=agent.settings, model_name=model, chat_model=agent.chat_model,
        max_steps=agent.max_steps, max_cost_usd=agent.max_cost_usd,
        keep_workspaces=config.keep_workspaces)
    todo = [i for i in dataset.instances if i.instance_id not in predictions]
    pred_writer, info_writer = JsonlWriter(path), JsonlWriter(run_dir / "inference.jsonl")
    jobs = [(i.instance_id, (i, ctx)) for i in todo]
    for n, (iid, result) in enumerate(fan_out(solve_instance, jobs, workers=config.workers,
                                              ray_address=config.ray_address), 1):
        record = asdict(result)
        info_writer.write(record)
        inference[iid] = record
        if result.status != "error":  # an errored instance is retried on resume
            prediction = {"instance_id": iid, "model_name_or_path": model,
                          "model_patch": result.model_patch}
            pred_writer.write(prediction)
            predictions[iid] = prediction
        if progress:
            progress("inference", n, len(todo))
    return predictions, inference


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Predictions from an official JSONL (or JSON list/dict) file."""
    if not path.exists():
        raise EvalError(f"predictions file not found: {path}")
    if path.suffix == ".json":
        data = read_json(path)
        rows = list(data.values()) if isinstance(data, dict) else data
    else:
        rows = list(read_jsonl(path))
    out: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            raise EvalError(f"{path} prediction {n}: field 'instance_id' is missing")
        patch = row.get("model_patch")
        if patch is not None and not isinstance(patch, str):
            raise EvalError(f"{path} prediction {n} ({row['instance_id']}): field "
                            f"'model_patch' must be a string")
        out[row["instance_id"]] = {"instance_id": row["instance_id"],
                                   "model_name_or_path": row.get("model_name_or_path", ""),
                                   "model_patch": patch}
    return out


def _row_problem_results(dataset: Dataset) -> dict[str, dict[str, Any]]:
    return {p.instance_id: {"instance_id": p.instance_id, "repo": p.repo or "(unreadable row)",
                            "status": "error", "reason": p.message}
            for p in dataset.problems if p.instance_id}


def _evaluate_local(config: SweConfig, dataset: Dataset, predictions: dict[str, dict[str, Any]],
                    inference: dict[str, dict[str, Any]], run_dir: Path,
                    progress: Progress | None) -> dict[str, dict[str, Any]]:
    path = run_dir / "evaluation.jsonl"
    # the result of an earlier pass counts only if it graded the same patch
    done = {r["instance_id"]: r for r in read_jsonl(path) if "instance_id" in r}
    results: dict[str, dict[str, Any]] = {}
    todo: list[Instance] = []
    for inst in dataset.instances:
        iid = inst.instance_id
        prediction = predictions.get(iid)
        if prediction is None:
            if inference.get(iid, {}).get("status") == "error":
                results[iid] = {"instance_id": iid, "repo": inst.repo, "status": "error",
                                "reason": f"inference failed: {inference[iid].get('reason', '')}"}
            continue
        previous = done.get(iid)
        if previous is not None and previous.get("patch_sha") == _sha(prediction["model_patch"]):
            results[iid] = previous
        else:
            todo.append(inst)
    ctx = EvalContext(repos_dir=config.repos_dir, cache_dir=config.cache_dir,
                      logs_dir=run_dir / "logs", scratch_dir=run_dir / "work",
                      sandbox=config.sandbox, test_timeout_s=config.test_timeout_s,
                      install_timeout_s=config.install_timeout_s,
                      keep_workspaces=config.keep_workspaces)
    writer = JsonlWriter(path)
    jobs = [(i.instance_id, (i, predictions[i.instance_id]["model_patch"], ctx)) for i in todo]
    for n, (iid, result) in enumerate(fan_out(evaluate_instance, jobs, workers=config.workers,
                                              ray_address=config.ray_address), 1):
        record = {**result.to_dict(), "patch_sha": _sha(predictions[iid]["model_patch"])}
        writer.write(record)
        write_json(run_dir / "logs" / iid / "report.json", result.report)
        results[iid] = record
        if progress:
            progress("evaluate", n, len(todo))
    return results


def _sha(patch: str | None) -> str:
    import hashlib

    return hashlib.sha1((patch or "").encode()).hexdigest()


def _from_official(dataset: Dataset, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    repo = {i.instance_id: i.repo for i in dataset.instances}
    out: dict[str, dict[str, Any]] = {}
    for state, key in (("resolved", "resolved_ids"), ("unresolved", "unresolved_ids"),
                       ("empty_patch", "empty_patch_ids"), ("error", "error_ids")):
        for iid in report.get(key, []):
            out[iid] = {"instance_id": iid, "repo": repo.get(iid, "?"), "status": state,
                        "env_source": "official"}
    return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)[:60] or "run"
