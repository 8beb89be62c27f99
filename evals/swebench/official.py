"""``--harness official``: hand the predictions to ``swebench.harness.run_evaluation``
(Docker images per instance) when a Docker engine answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.errors import EvalError
from evals.swebench.dataset import Instance


def docker_problem() -> str | None:
    """Why the official harness cannot run here, or None when Docker answers."""
    try:
        import docker
    except ImportError:
        return "the docker Python package is not installed (pip install docker)"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - DockerException, connection errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        return f"no Docker engine is reachable ({first})"
    return None


def run_official(instances: list[Instance], predictions_path: Path, run_dir: Path, run_id: str,
                 workers: int, timeout_s: float) -> dict[str, Any]:
    """Run the official evaluation; return its run report (``EvalError`` when it cannot)."""
    problem = docker_problem()
    if problem is not None:
        raise EvalError(f"--harness official needs Docker: {problem}; use --harness local "
                        f"to evaluate in the sandbox instead")
    from swebench.harness.run_evaluation import main as run_evaluation

    dataset_file = run_dir / "official_dataset.json"
    dataset_file.write_text(json.dumps([_official_row(i) for i in instances]), encoding="utf-8")
    run_evaluation(
        dataset_name=str(dataset_file), split="test",
        instance_ids=[i.instance_id for i in instances], predictions_path=str(predictions_path),
        max_workers=workers, force_rebuild=False, cache_level="env", clean=False,
        open_file_limit=4096, run_id=run_id, timeout=int(timeout_s), namespace=None,
        rewrite_reports=False, modal=False, report_dir=str(run_dir))
    reports = sorted(run_dir.glob(f"*.{run_id}.json"))
    if not reports:
        raise EvalError(f"the official harness wrote no report into {run_dir}")
    return json.loads(reports[-1].read_text())


def _official_row(inst: Instance) -> dict[str, Any]:
    return {"instance_id": inst.instance_id, "repo": inst.repo, "base_commit": inst.base_commit,
            "patch": inst.patch, "test_patch": inst.test_patch,
            "problem_statement": inst.problem_statement, "hints_text": inst.hints_text,
            "version": inst.version, "environment_setup_commit": inst.environment_setup_commit,
            "FAIL_TO_PASS": json.dumps(list(inst.FAIL_TO_PASS)),
            "PASS_TO_PASS": json.dumps(list(inst.PASS_TO_PASS)), "created_at": ""}
