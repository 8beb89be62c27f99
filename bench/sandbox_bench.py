"""Sandbox benchmark: start overhead of the bwrap and local backends against a bare
``subprocess.run`` of the same trivial command (the baseline, measured in the same run), and
8 concurrent sandboxed pytest runs of a small suite that must not interfere (each run
writes its id to the same /tmp path and reads it back: bwrap's private /tmp keeps them
apart; the local backend, which does not isolate, is expected to fail that check).

Prints one JSON line per measurement. Usage: ``python bench/sandbox_bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from runtime.sandbox import Sandbox, SandboxSettings, SandboxUnavailable, TestReport, TestRunner

TRIVIAL = ["/bin/true"]
CONCURRENT = 8
SUITE = '''\
import os, time

def test_private_tmp_and_workdir():
    # every run writes its own id to the same /tmp path and reads it back after a pause:
    # a shared /tmp or work dir between concurrent runs would show another run's id
    me = os.environ["RUN_ID"]
    with open("/tmp/shared.txt", "w") as fh:
        fh.write(me)
    with open("mine.txt", "w") as fh:
        fh.write(me)
    time.sleep(0.3)
    assert open("/tmp/shared.txt").read() == me
    assert open("mine.txt").read() == me

def test_cpu_bit():
    assert sum(i * i for i in range(200_000)) > 0

def test_more():
    assert "x" * 3 == "xxx"
'''


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "sandbox", **fields}), flush=True)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def time_bare(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(TRIVIAL, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def time_sandbox(sandbox: Sandbox, cwd: Path, runs: int) -> list[float]:
    sandbox.run(TRIVIAL, cwd=cwd)  # the first run probes the backend: not part of the figure
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        res = sandbox.run(TRIVIAL, cwd=cwd)
        out.append(time.perf_counter() - t)
        assert res.ok, res.summary()
    return out


def start_overhead(runs: int, work: Path) -> None:
    # interleave baseline and candidates in rounds so machine noise hits all alike
    samples: dict[str, list[float]] = {"bare": []}
    sandboxes: dict[str, Sandbox] = {}
    # "bwrap-nocg": the same without the per-run pids cgroup, whose join (a cgroup
    # migration: an RCU grace period in the kernel) is the part that grows with machine load
    variants = {"local": {"backend": "local"}, "bwrap": {"backend": "bwrap"},
                "bwrap-nocg": {"backend": "bwrap", "cgroups": "off"}}
    for backend, fields in variants.items():
        samples[backend] = []
        sb = Sandbox(SandboxSettings.model_validate(fields), work)
        try:
            sb.run(TRIVIAL, cwd=work)
            sandboxes[backend] = sb
        except SandboxUnavailable as exc:
            emit(measure="start_overhead", backend=backend, skipped=str(exc))
    rounds = 5
    for _ in range(rounds):
        samples["bare"] += time_bare(runs // rounds)
        for name, sb in sandboxes.items():
            samples[name] += time_sandbox(sb, work, runs // rounds)
    base = median_ms(samples["bare"])
    load = round(os.getloadavg()[0], 2)
    emit(measure="start_overhead", backend="bare subprocess.run", median_ms=base,
         runs=len(samples["bare"]), command=" ".join(TRIVIAL))
    for name in sandboxes:
        med = median_ms(samples[name])
        emit(measure="start_overhead", backend=name, median_ms=med,
             p90_ms=round(statistics.quantiles(samples[name], n=10)[-1] * 1000, 3),
             baseline="bare subprocess.run", baseline_median_ms=base,
             overhead_ms=round(med - base, 3), ratio=round(med / base, 2),
             runs=len(samples[name]),
             target_overhead_ms=30 if name.startswith("bwrap") else None,
             cgroups=sandboxes[name].cgroups.describe(), load_avg_1m=load)


async def concurrent_pytest(work: Path, backend: Literal["bwrap", "local"]) -> None:
    env_allow = ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    roots = []
    for i in range(CONCURRENT):
        root = work / f"proj{i}"
        root.mkdir()
        (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        (root / "test_suite.py").write_text(SUITE)
        roots.append(root)

    def runner(root: Path) -> TestRunner:
        settings = SandboxSettings(backend=backend, env_allow=env_allow, timeout_s=300)
        return TestRunner(Sandbox(settings, root), root)

    async def one(i: int, root: Path) -> tuple[float, TestReport]:
        t = time.perf_counter()
        report = await runner(root).arun(env={"RUN_ID": f"run-{i}"})
        return time.perf_counter() - t, report

    single_s, single = await one(0, roots[0])
    t = time.perf_counter()
    results = await asyncio.gather(*(one(i, r) for i, r in enumerate(roots)))
    wall = time.perf_counter() - t
    reports = [rep for _, rep in results]
    clean = all(rep.ok and len(rep.passed) == 3 for rep in reports)
    ids_ok = all((root / "mine.txt").read_text() == f"run-{i}" for i, root in enumerate(roots))
    emit(measure="concurrent_pytest", backend=backend, runs=CONCURRENT,
         load_avg_1m=round(os.getloadavg()[0], 2),
         baseline="one run alone", baseline_s=round(single_s, 3), wall_s=round(wall, 3),
         ratio=round(wall / single_s, 2), per_run_median_s=round(statistics.median(
             d for d, _ in results), 3), isolated_and_all_passed=clean and ids_ok,
         single_ok=single.ok, plugin_autoload="disabled")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="runs per backend (start overhead)")
    args = parser.parse_args()
    # the local backend logs its no-isolation warning once per sandbox; one line here is enough
    logging.getLogger("runtime.sandbox").addHandler(logging.NullHandler())
    emit(measure="machine", python=sys.version.split()[0], cpus=os.cpu_count(), uid=os.getuid(),
         load_avg_1m=round(os.getloadavg()[0], 2))
    with tempfile.TemporaryDirectory(prefix="engram-bench-") as tmp:
        work = Path(tmp)
        start_overhead(args.runs, work)
        backends: tuple[Literal["bwrap", "local"], ...] = ("bwrap", "local")
        for backend in backends:
            sub = work / backend
            sub.mkdir()
            try:
                asyncio.run(concurrent_pytest(sub, backend))
            except SandboxUnavailable as exc:
                emit(measure="concurrent_pytest", backend=backend, skipped=str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
