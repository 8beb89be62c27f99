"""Fan jobs out: threads on this machine (``--workers N``) or tasks on a Ray cluster
(``--ray-address ADDR``; ``local`` starts a one-machine cluster). Ray is an optional extra."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

from evals.errors import EvalError

K = TypeVar("K")
R = TypeVar("R")


def fan_out(fn: Callable[..., R], jobs: Iterable[tuple[K, tuple[Any, ...]]], *, workers: int = 1,
            ray_address: str | None = None) -> Iterator[tuple[K, R]]:
    """``(key, fn(*args))`` for each ``(key, args)`` job, in completion order. ``fn`` must not
    raise (the harness functions turn failures into results)."""
    jobs = list(jobs)
    if not jobs:
        return iter(())
    if ray_address:
        return _ray(fn, jobs, ray_address)
    return _threads(fn, jobs, workers)


def _threads(fn: Callable[..., R], jobs: list[tuple[K, tuple[Any, ...]]],
             workers: int) -> Iterator[tuple[K, R]]:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(fn, *args): key for key, args in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:  # an interrupted run stops handing out new work
                future.cancel()


def _ray(fn: Callable[..., R], jobs: list[tuple[K, tuple[Any, ...]]],
         address: str) -> Iterator[tuple[K, R]]:
    try:
        import ray
    except ImportError:
        raise EvalError("--ray-address needs Ray: pip install 'ray>=2.9'") from None
    try:
        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address,
                     ignore_reinit_error=True, log_to_driver=False)
    except Exception as exc:  # noqa: BLE001 - ConnectionError and Ray's own errors
        raise EvalError(f"cannot connect to the Ray cluster at {address}: {exc}") from None
    remote = ray.remote(fn)
    pending = {remote.remote(*args): key for key, args in jobs}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            key = pending.pop(done[0])
            yield key, ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref)
