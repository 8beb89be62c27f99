"""Reports of a run: a rich table for the terminal, the summary JSON, a PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from evals.errors import EvalError
from evals.storage import read_json

SUMMARY_FILE = "summary.json"
SWE_STATES = ("resolved", "unresolved", "empty_patch", "error")
_COLOURS = {"resolved": "#2e7d32", "unresolved": "#c62828", "empty_patch": "#9e9e9e",
            "error": "#ef6c00"}


def load_summary(run_dir: Path) -> dict[str, Any]:
    """The summary of the run in ``run_dir`` (``EvalError`` when it is not a run)."""
    if not run_dir.is_dir():
        raise EvalError(f"{run_dir} is not a folder")
    path = run_dir / SUMMARY_FILE
    if not path.exists():
        raise EvalError(f"{run_dir} has no {SUMMARY_FILE}: not an engram eval run, or one that "
                        f"has not finished a pass yet (run the same command again to resume)")
    summary = read_json(path)
    if not isinstance(summary, dict) or summary.get("kind") not in ("humaneval", "swebench"):
        raise EvalError(f"{path} is not an engram eval summary")
    return summary


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """The terminal table for a run of either kind."""
    if summary["kind"] == "humaneval":
        console.print(humaneval_table(summary))
    else:
        console.print(swebench_table(summary))
        if summary.get("instances") and len(summary["instances"]) <= 60:
            console.print(swebench_instance_table(summary))


def humaneval_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"HumanEval — {summary['model']}", box=box.SIMPLE_HEAVY)
    table.add_column("problems", justify="right")
    table.add_column("samples", justify="right")
    for k in summary["pass_at_k"]:
        table.add_column(k, justify="right")
    table.add_column("outcomes")
    outcomes = ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items())
    executed = f"{summary['samples_executed']}/{summary['samples_expected']}"
    table.add_row(str(summary["problems"]), executed,
                  *(f"{v * 100:.1f}%" for v in summary["pass_at_k"].values()), outcomes)
    return table


def swebench_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"SWE-bench — {summary['model']} ({summary['harness']} harness)",
                  box=box.SIMPLE_HEAVY)
    table.add_column("repository")
    table.add_column("instances", justify="right")
    for state in SWE_STATES:
        table.add_column(state.replace("_", " "), justify="right")
    table.add_column("resolved %", justify="right")
    rows = dict(summary["per_repo"])
    rows["total"] = {s: summary["report"][f"{s}_instances"] for s in SWE_STATES} | {
        "instances": summary["report"]["total_instances"]}
    for repo, counts in rows.items():
        n = counts["instances"]
        share = f"{100 * counts['resolved'] / n:.1f}%" if n else "-"
        table.add_row(repo, str(n), *(str(counts[s]) for s in SWE_STATES), share,
                      style="bold" if repo == "total" else None)
    return table


def swebench_instance_table(summary: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE)
    table.add_column("instance")
    table.add_column("status")
    table.add_column("environment")
    table.add_column("what happened")
    for iid, info in summary["instances"].items():
        table.add_row(iid, info["status"], info.get("env_source", ""), info.get("reason", ""))
    return table


def write_chart(summary: dict[str, Any], target: Path) -> Path:
    """A PNG chart: pass@k bars (HumanEval) or outcome bars per repository (SWE-bench)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to a file
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        if summary["kind"] == "humaneval":
            ks = list(summary["pass_at_k"]) or ["pass@1"]
            values = [100 * summary["pass_at_k"].get(k, 0.0) for k in ks]
            bars = ax.bar(ks, values, color="#1565c0")
            ax.bar_label(bars, fmt="%.1f%%")
            ax.set_ylim(0, 100)
            ax.set_ylabel("% of problems")
            ax.set_title(f"HumanEval — {summary['model']}")
        else:
            repos = list(summary["per_repo"]) or ["(none)"]
            bottom = [0] * len(repos)
            for state in SWE_STATES:
                values = [summary["per_repo"].get(r, {}).get(state, 0) for r in repos]
                ax.bar(repos, values, bottom=bottom, label=state.replace("_", " "),
                       color=_COLOURS[state])
                bottom = [b + v for b, v in zip(bottom, values)]
            ax.set_ylabel("instances")
            ax.set_title(f"SWE-bench — {summary['model']}")
            ax.legend()
            ax.tick_params(axis="x", labelrotation=20)
        fig.tight_layout()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp.png")
        fig.savefig(tmp, format="png")
        tmp.replace(target)
    except OSError as exc:
        raise EvalError(f"cannot write the chart {target}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return target
