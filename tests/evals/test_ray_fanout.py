"""Fan-out: threads locally, Ray when it is installed (a one-machine cluster)."""

from __future__ import annotations

import pytest

from evals.errors import EvalError
from evals.ray_fanout import fan_out


def _square(x: int) -> int:
    return x * x


def test_threads_return_every_job_by_key() -> None:
    got = dict(fan_out(_square, [(i, (i,)) for i in range(7)], workers=3))
    assert got == {i: i * i for i in range(7)}


def test_ray_runs_jobs_on_a_local_cluster() -> None:
    ray = pytest.importorskip("ray")
    try:
        got = dict(fan_out(_square, [(i, (i,)) for i in range(4)], ray_address="local"))
    finally:
        ray.shutdown()
    assert got == {0: 0, 1: 1, 2: 4, 3: 9}


def test_a_missing_ray_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(EvalError, match="--ray-address needs Ray: pip install"):
        list(fan_out(_square, [(1, (1,))], ray_address="local"))
