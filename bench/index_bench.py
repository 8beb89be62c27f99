"""Benchmark the indexer on a repository; optionally against aider's RepoMap in the same run.

    python bench/index_bench.py bench/data/sympy [--aider-python /tmp/aider-venv/bin/python]

Prints one JSON line per measurement: cold index (and cold index plus the first map),
refresh with no change, refresh after one file changed, an 8K-token repo map (a new Index over the warm cache, as a new process would
see it), a 1M-token pack, peak RSS; with ``--aider-python`` (a Python where ``pip install
aider-chat`` was done) also aider's RepoMap at 8K tokens, cold and warm, and the ratios.
The repository is left as it was found (the changed file is restored, caches are removed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer import Index, IndexSettings

MAP_TOKENS = 8192
PACK_TOKENS = 1_000_000

TARGETS = {
    "cold_index": 4.0, "refresh_no_change": 0.3, "refresh_one_file": 0.3,
    "repo_map_8k": 0.5, "pack_1m": 2.0, "peak_rss_mib": 1024,
}

_AIDER_DRIVER = r"""
import json, os, shutil, subprocess, sys, time
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from aider.io import InputOutput
from aider.models import Model
from aider.repomap import RepoMap

root, tokens = sys.argv[1], int(sys.argv[2])
files = [os.path.join(root, f) for f in subprocess.run(
    ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split("\n") if f]
model = Model("gpt-4o")
io = InputOutput(yes=True, pretty=False, fancy_input=False)
for d in os.listdir(root):
    if d.startswith(".aider.tags.cache"):
        shutil.rmtree(os.path.join(root, d))

def run():
    rm = RepoMap(map_tokens=tokens, root=root, main_model=model, io=io, map_mul_no_files=1,
                 refresh="always")
    t, c = time.perf_counter(), time.process_time()
    text = rm.get_repo_map([], files)
    return time.perf_counter() - t, time.process_time() - c, text or ""

cold, cold_cpu, text = run()
warm, warm_cpu, text = run()
print(json.dumps({"cold": cold, "warm": warm, "cold_cpu": cold_cpu, "warm_cpu": warm_cpu,
                  "map_tokens": model.token_count(text), "files": len(files)}))
for d in os.listdir(root):
    if d.startswith(".aider.tags.cache"):
        shutil.rmtree(os.path.join(root, d))
"""


def emit(measure: str, **fields: object) -> None:
    print(json.dumps({"measure": measure, **fields}), flush=True)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (parse workers, git)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pick_file(root: Path) -> Path:
    """A mid-sized source file to edit for the one-file refresh."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True, text=True,
                            check=True).stdout.split()
    sized = sorted((root / p).stat().st_size for p in listed)
    median = sized[len(sized) // 2] if sized else 0
    return next(root / p for p in listed if (root / p).stat().st_size == median)


def bench_ours(root: Path, cache_dir: Path) -> dict[str, float]:
    settings = IndexSettings()
    cache = cache_dir / "index.sqlite"
    results: dict[str, float] = {}

    with Index.open(root, settings, cache_path=cache) as index:
        cpu0 = cpu_seconds()
        secs, stats = timed(index.refresh)
        cpu = cpu_seconds() - cpu0
        results["cold_index"] = secs
        results["cold_index_cpu"] = cpu
        emit("cold_index", seconds=round(secs, 3), cpu_seconds=round(cpu, 3), files=stats.files,
             parsed=stats.reparsed, skipped=stats.skipped)
        map_secs, repo_map = timed(lambda: index.repo_map(MAP_TOKENS))
        results["cold_map_8k"] = secs + map_secs
        emit("cold_map_8k", seconds=round(secs + map_secs, 3), map_seconds=round(map_secs, 3),
             tokens=repo_map.tokens, note="cold index plus the first 8K map: what aider's cold run does")

        secs, stats = timed(index.refresh)
        results["refresh_no_change"] = secs
        emit("refresh_no_change", seconds=round(secs, 3), parsed=stats.reparsed)

        victim = pick_file(root)
        original = victim.read_bytes()
        try:
            victim.write_bytes(original + b"\n\ndef _bench_added_function():\n    return 42\n")
            secs, stats = timed(index.refresh)
            results["refresh_one_file"] = secs
            emit("refresh_one_file", seconds=round(secs, 3), parsed=stats.reparsed,
                 changed=stats.changed, file=str(victim.relative_to(root)))
        finally:
            victim.write_bytes(original)
            index.refresh()

    # A new Index over the warm cache: what a new process pays for its first map.
    def first_map():
        with Index.open(root, settings, cache_path=cache) as fresh:
            return fresh.repo_map(MAP_TOKENS)

    cpu0 = cpu_seconds()
    secs, repo_map = timed(first_map)
    results["repo_map_8k"] = secs
    results["repo_map_8k_cpu"] = cpu_seconds() - cpu0
    emit("repo_map_8k", seconds=round(secs, 3), cpu_seconds=round(results["repo_map_8k_cpu"], 3),
         tokens=repo_map.tokens, files=len(repo_map.files),
         symbols=repo_map.symbols, note="new Index on a warm cache: open, refresh, load, graph, rank, fit")

    with Index.open(root, settings, cache_path=cache) as index:
        index.refresh()
        index.repo_map(MAP_TOKENS)  # graph built and loaded
        index.search("warm up")  # the BM25 index a query uses, built once per version
        secs, repo_map = timed(lambda: index.repo_map(MAP_TOKENS, query="matrix determinant"))
        emit("repo_map_8k_hot", seconds=round(secs, 3), tokens=repo_map.tokens,
             note="same Index, new query (graph and BM25 index built): personalize, rank, fit")
        secs, pack = timed(lambda: index.pack(None, PACK_TOKENS))
        results["pack_1m"] = secs
        emit("pack_1m", seconds=round(secs, 3), tokens=pack.total_tokens, xml_tokens=pack.xml_tokens,
             files=len(pack.entries), full=sum(e.mode == "full" for e in pack.entries))

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results["peak_rss_mib"] = max(own, workers)
    emit("peak_rss", mib=round(own, 1), largest_worker_mib=round(workers, 1))
    return results


def bench_aider(python: str, root: Path) -> dict[str, float] | None:
    proc = subprocess.run([python, "-c", _AIDER_DRIVER, str(root), str(MAP_TOKENS)],
                          capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        emit("aider_error", returncode=proc.returncode, stderr=proc.stderr.strip().splitlines()[-3:])
        return None
    data = json.loads(lines[-1])
    emit("aider_repo_map_8k", cold_seconds=round(data["cold"], 3), warm_seconds=round(data["warm"], 3),
         cold_cpu_seconds=round(data["cold_cpu"], 3), warm_cpu_seconds=round(data["warm_cpu"], 3),
         map_tokens=data["map_tokens"], files=data["files"])
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", type=Path)
    ap.add_argument("--aider-python", help="python of a venv with aider-chat installed")
    args = ap.parse_args()
    root = args.repo.resolve()
    if not (root / ".git").exists():
        print(f"error: {root} is not a git work tree", file=sys.stderr)
        return 1
    emit("machine", cpus=os.cpu_count(), load_avg=[round(x, 2) for x in os.getloadavg()])
    cache_dir = Path(tempfile.mkdtemp(prefix="engram-bench-"))
    try:
        ours = bench_ours(root, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    for name, limit in TARGETS.items():
        emit("target", name=name, value=round(ours[name], 3), limit=limit, met=ours[name] <= limit)
    if args.aider_python:
        aider = bench_aider(args.aider_python, root)
        if aider:
            cold_ratio = aider["cold"] / ours["cold_map_8k"]
            warm_ratio = aider["warm"] / ours["repo_map_8k"]
            emit("ratio", name="aider_cold_map / ours_cold_index_plus_map", value=round(cold_ratio, 1),
                 target=5, met=cold_ratio >= 5)
            emit("ratio", name="aider_warm_map / ours_repo_map_8k", value=round(warm_ratio, 1),
                 target=15, met=warm_ratio >= 15)
            # CPU seconds depend far less on what else runs on the machine than wall time.
            emit("cpu_ratio", name="aider_cold_cpu / ours_cold_index_cpu",
                 value=round(aider["cold_cpu"] / ours["cold_index_cpu"], 1))
            emit("cpu_ratio", name="aider_warm_cpu / ours_repo_map_8k_cpu",
                 value=round(aider["warm_cpu"] / ours["repo_map_8k_cpu"], 1))
    emit("machine_after", load_avg=[round(x, 2) for x in os.getloadavg()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
