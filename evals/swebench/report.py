"""The run report in the official ``swebench`` shape, plus per-repository counts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from evals.swebench.dataset import Dataset

STATES = ("resolved", "unresolved", "empty_patch", "error")


def official_report(dataset: Dataset, predictions: dict[str, dict[str, Any]],
                    results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``report.json`` as ``swebench.harness.reporting.make_run_report`` lays it out."""
    ids = [i.instance_id for i in dataset.instances] + [
        p.instance_id for p in dataset.problems if p.instance_id]
    by_state: dict[str, list[str]] = {s: [] for s in STATES}
    for iid in ids:
        state = results.get(iid, {}).get("status")
        if state in by_state:
            by_state[state].append(iid)
    completed = sorted(by_state["resolved"] + by_state["unresolved"])
    done = set(completed) | set(by_state["empty_patch"]) | set(by_state["error"])
    return {
        "total_instances": len(ids),
        "submitted_instances": len([i for i in ids if i in predictions]),
        "completed_instances": len(completed),
        "resolved_instances": len(by_state["resolved"]),
        "unresolved_instances": len(by_state["unresolved"]),
        "empty_patch_instances": len(by_state["empty_patch"]),
        "error_instances": len(by_state["error"]),
        "completed_ids": completed,
        "incomplete_ids": sorted(i for i in ids if i not in done),
        "empty_patch_ids": sorted(by_state["empty_patch"]),
        "submitted_ids": sorted(i for i in ids if i in predictions),
        "resolved_ids": sorted(by_state["resolved"]),
        "unresolved_ids": sorted(by_state["unresolved"]),
        "error_ids": sorted(by_state["error"]),
        "schema_version": 2,
    }


def per_repo(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Instances and outcome counts per repository."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"instances": 0, **dict.fromkeys(STATES, 0)})
    for info in results.values():
        row = counts[info.get("repo", "?")]
        row["instances"] += 1
        if info.get("status") in STATES:
            row[info["status"]] += 1
    return dict(sorted(counts.items()))
