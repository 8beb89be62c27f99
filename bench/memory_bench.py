"""Engram memory benchmark: insert throughput, open time, recall latency and quality.

Data: the requests 2.32.3 sdist (downloaded into bench/data/, gitignored). The labelled
set is built from it deterministically: for every function or class with a docstring, the
entry is the docstring (a "file summary" without the name) and the context is the code of
its body, as an agent editing that function would hold it. HISTORY.md bullets and README
paragraphs are distractors. Large memories add synthetic entries: real sentences from the
same text with ~30% of their words swapped for words drawn by corpus frequency.

Baselines in the same run: rank-bm25's BM25Okapi over the same entries, tokenized plainly
(lower-case words) and with Engram's normalizer. Prints one JSON line per measurement.

    python bench/memory_bench.py                      # sizes 10K, 100K, 1M
    python bench/memory_bench.py --sizes 2000,20000   # a quick run
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from agent.memory import Draft, MemorySettings, MemoryStore
from agent.memory.normalize import normalize

DATA = Path(__file__).parent / "data"
SDIST = "requests-2.32.3"
_WORD = re.compile(r"\w+")


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def fetch_sdist() -> Path:
    root = DATA / SDIST
    if not root.is_dir():
        DATA.mkdir(parents=True, exist_ok=True)
        tarball = DATA / f"{SDIST}.tar.gz"
        if not tarball.is_file():
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                            ":all:", "requests==2.32.3", "-d", str(DATA), "-q"], check=True)
        with tarfile.open(tarball) as tar:
            tar.extractall(DATA, filter="data")
    return root


def labelled_pairs(root: Path) -> list[tuple[str, str]]:
    """(context, relevant entry text) for every documented function/class, in file order."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc or len(node.body) < 2:
                continue
            summary = " ".join(doc.split("\n\n")[0].split())[:600]
            body_start = node.body[1].lineno - 1
            body = lines[body_start: min(node.end_lineno or body_start, body_start + 40)]
            signature = lines[node.lineno - 1].strip()
            context = signature + "\n" + "\n".join(body)
            if len(normalize(summary)) >= 4 and len(normalize(context)) >= 4:
                pairs.append((context, summary))
    unique: dict[str, str] = {}
    for context, summary in pairs:
        unique.setdefault(summary, context)  # one pair per distinct entry text
    return [(c, s) for s, c in unique.items()]


def distractors(root: Path) -> list[str]:
    out = []
    for line in (root / "HISTORY.md").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith(("- ", "* ")) and len(line) > 20:
            out.append(line[2:])
    for para in (root / "README.md").read_text(encoding="utf-8").split("\n\n"):
        if len(para) > 40:
            out.append(" ".join(para.split())[:600])
    return list(dict.fromkeys(out))


def synthetic(texts: list[str], n: int, vocabulary: list[str], seed: int = 7) -> list[str]:
    """``n`` distinct entries: real sentences with ~30% of words swapped by frequency."""
    rng = np.random.default_rng(seed)
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 4]
    words = [w for t in vocabulary for w in t.split()]
    vocab, counts = np.unique(np.array(words), return_counts=True)
    probs = counts / counts.sum()
    out = []
    base = rng.integers(0, len(sentences), n)
    swaps = rng.choice(len(vocab), size=n * 8, p=probs)
    k = 0
    for i in range(n):
        toks = sentences[base[i]].split()[:24]
        for j in range(len(toks)):
            if rng.random() < 0.3:
                toks[j] = str(vocab[swaps[k % swaps.size]])
                k += 1
        out.append(" ".join(toks) + f" ({i})")
    return out


def _plain(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def bm25_top(bm: BM25Okapi, query: list[str], k: int) -> list[int]:
    scores = bm.get_scores(query)
    return np.argsort(-scores, kind="stable")[:k].tolist()


def recall_at_5(store: MemoryStore, pairs: list[tuple[str, str]], ids: dict[str, int]) -> float:
    hits = 0
    for context, summary in pairs:
        got = store.recall(context, budget_tokens=100_000, k=5, record_use=False)
        hits += ids[summary] in {r.entry.id for r in got}
    return hits / len(pairs)


def distinct(texts: list[str]) -> list[str]:
    """Texts whose normalized forms differ (so both systems index the very same set)."""
    seen: dict[tuple[str, ...], str] = {}
    for t in texts:
        seen.setdefault(tuple(normalize(t)), t)
    return list(seen.values())


def quality(pairs: list[tuple[str, str]], noise: list[str], work: Path) -> None:
    entries = distinct([s for _, s in pairs] + noise)
    kept = set(entries)
    pairs = [(c, s) for c, s in pairs if s in kept]
    for gated in (True, False):
        settings = MemorySettings() if gated else MemorySettings(gate_threshold=0.0)
        folder = work / f"quality-{gated}"
        folder.mkdir()
        with MemoryStore.open(folder, settings) as store:
            store.remember_many((Draft(t, "file_summary", ("user",), 1.0, False) for t in entries),
                                dedup="exact")
            ids = {e.text: e.id for e in store.list()}
            r5 = recall_at_5(store, pairs, ids)
        emit(metric="recall@5", system="engram" + ("" if gated else "-ungated"), value=r5,
             pairs=len(pairs), entries=len(entries))
    for name, tok in (("bm25-plain", _plain), ("bm25-engram-normalizer", normalize)):
        bm = BM25Okapi([tok(t) for t in entries])
        index = {t: i for i, t in enumerate(entries)}
        hits = sum(index[s] in bm25_top(bm, tok(c), 5) for c, s in pairs)
        emit(metric="recall@5", system=name, value=hits / len(pairs), pairs=len(pairs),
             entries=len(entries))


def scale(n: int, pairs: list[tuple[str, str]], noise: list[str], work: Path,
          queries: int) -> None:
    labelled = distinct([s for _, s in pairs] + noise)
    pairs = [(c, s) for c, s in pairs if s in set(labelled)]
    # Filler sentences come from the distractors (changelog, README), words from everything:
    # realistic vocabulary, but no near-copies of the labelled entries.
    fill = synthetic(noise, max(0, n - len(labelled)), vocabulary=labelled)
    entries = labelled + fill
    settings = MemorySettings(max_entries=max(2 * n, 100_000))
    folder = work / f"scale-{n}"
    folder.mkdir()
    store = MemoryStore.open(folder, settings)
    single = min(2000, len(entries))
    t0 = time.perf_counter()
    for text in entries[:single]:
        store.remember(text, "fact")
    dt = time.perf_counter() - t0
    emit(metric="insert_per_s", mode="remember (near-dedup, 1 txn each)", entries=n,
         value=round(single / dt, 1))
    t0 = time.perf_counter()
    store.remember_many((Draft(t, "fact", ("user",), 1.0, False) for t in entries[single:]),
                        dedup="exact")
    dt = time.perf_counter() - t0
    if len(entries) > single:
        emit(metric="insert_per_s", mode="remember_many (exact dedup, incl. table rebuild)",
             entries=n, value=round((len(entries) - single) / dt, 1))
    t0 = time.perf_counter()
    store.compact()
    emit(metric="rebuild_s", entries=n, value=round(time.perf_counter() - t0, 3))
    store.close()
    opens = []
    for _ in range(5):
        t0 = time.perf_counter()
        store = MemoryStore.open(folder, settings)
        opens.append(time.perf_counter() - t0)
        store.close()
    emit(metric="open_ms", entries=n, value=round(1000 * statistics.median(opens), 2),
         max=round(1000 * max(opens), 2))

    store = MemoryStore.open(folder, settings)
    ids = {e.text: e.id for e in store.list(kind="fact") if e.text in set(labelled)}
    contexts = [c for c, _ in pairs]
    for c in contexts[:20]:  # warm the page cache and the tokenizer
        store.recall(c, 1500)
    lat, cpu = [], []
    for i in range(queries):
        t0, c0 = time.perf_counter(), time.process_time()
        store.recall(contexts[i % len(contexts)], 1500)
        lat.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    lat_ms, cpu_ms = np.array(lat) * 1000, np.array(cpu) * 1000
    p50, p99 = float(np.percentile(lat_ms, 50)), float(np.percentile(lat_ms, 99))
    # CPU time as well: on a shared 2-core machine wall-clock tails include other jobs.
    emit(metric="recall_latency_ms", system="engram", entries=n, p50=round(p50, 3),
         p99=round(p99, 3), cpu_p50=round(float(np.percentile(cpu_ms, 50)), 3),
         cpu_p99=round(float(np.percentile(cpu_ms, 99)), 3), queries=queries)
    hits = sum(ids.get(s) in {r.entry.id for r in store.recall(c, 100_000, 5, record_use=False)}
               for c, s in pairs)
    emit(metric="recall@5", system="engram", entries=n, value=hits / len(pairs))
    store.close()

    bm_n = min(n, 100_000)
    bm_entries = entries[:bm_n]
    t0 = time.perf_counter()
    bm = BM25Okapi([_plain(t) for t in bm_entries])
    build = time.perf_counter() - t0
    bm_q = 20 if bm_n <= 10_000 else 5
    bm_lat = []
    for c in contexts[:bm_q]:
        t0 = time.perf_counter()
        bm25_top(bm, _plain(c), 5)
        bm_lat.append(time.perf_counter() - t0)
    bm_p50 = 1000 * statistics.median(bm_lat)
    estimated = bm_n < n
    bm_at_n = bm_p50 * n / bm_n  # get_scores is linear in the number of entries
    if bm_n == n:  # quality of the baseline on the same large memory
        index = {t: i for i, t in enumerate(bm_entries)}
        hits = sum(index[s] in bm25_top(bm, _plain(c), 5) for c, s in pairs)
        emit(metric="recall@5", system="bm25-plain", entries=n, value=hits / len(pairs))
    emit(metric="recall_latency_ms", system="bm25-plain (rank-bm25)", entries=n,
         p50=round(bm_at_n, 2), measured_at=bm_n, estimated=estimated, queries=bm_q,
         build_s=round(build, 2))
    emit(metric="speedup_vs_bm25", entries=n, p50_ratio=round(bm_at_n / p50, 1),
         bm25_p50_over_engram_p99=round(bm_at_n / p99, 1), bm25_estimated=estimated)
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--work", type=Path, default=None, help="Scratch folder (default: temp).")
    args = parser.parse_args()
    root = fetch_sdist()
    pairs = labelled_pairs(root)
    noise = distractors(root)
    work = Path(tempfile.mkdtemp(prefix="engram-memory-bench-", dir=args.work))
    try:
        quality(pairs, noise, work)
        for n in (int(s) for s in args.sizes.split(",")):
            scale(n, pairs, noise, work, args.queries)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
