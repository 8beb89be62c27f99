"""Agent loop benchmark: overhead per step excluding model (and test) time, and tokens sent
per task in whole-repo vs navigator mode, on the fixture tasks with the replay model.

    python bench/agent_bench.py [--runs 3]

Prints one JSON line per measurement. Baselines, measured in the same run:
- ``bare_replay_stream``: streaming the same scripted answers straight from the replay model,
  without the loop; ``overhead_ratio`` is the loop's own time per step over it.
- ``whole-repo`` tokens; ``tokens_ratio`` is navigator over whole-repo.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from langchain_core.messages import HumanMessage  # noqa: E402

from agent.config import load_settings  # noqa: E402
from agent.session import Session  # noqa: E402
from agent.tools.test_runs import TestRuns  # noqa: E402
from runtime.llm import ReplayChatModel, load_script  # noqa: E402
from tests.agent.loop.conftest import SCRIPTS, SHOP_FILES, UNITTEST  # noqa: E402

TARGET_MS = 50.0
PINNED = ("lib/indexer/pack.py", "lib/indexer/models.py")


class TimedReplay(ReplayChatModel):
    """Replay that adds up the time spent inside model calls."""

    model_seconds: float = 0.0
    first_call_at: float = 0.0

    def _stream(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        start = time.perf_counter()
        if not self.first_call_at:
            self.first_call_at = start
        for chunk in super()._stream(*args, **kwargs):
            self.model_seconds += time.perf_counter() - start
            yield chunk
            start = time.perf_counter()
        self.model_seconds += time.perf_counter() - start


def make_repo(name: str, with_library: bool) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"engram-bench-{name}-")) / name
    root.mkdir()
    for rel, text in SHOP_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    if with_library:  # a real package of ~40 files next to the task's code
        shutil.copytree(REPO_ROOT / "indexer", root / "lib" / "indexer",
                        ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], cwd=root, check=True)
    return root


async def one_run(repo: Path, mode: str, pinned: tuple[str, ...] = ()) -> dict[str, Any]:
    base = load_settings(None)
    settings = base.model_copy(update={
        "sandbox": base.sandbox.model_copy(update={"test_command": UNITTEST}),
        "agent": base.agent.model_copy(update={"context_mode": mode, "learn": False}),
        "memory": base.memory.model_copy(update={"enabled": False}),
    })
    model = TimedReplay(steps=load_script(SCRIPTS / "two_file_fix.jsonl"))
    test_seconds = 0.0
    original = TestRuns._run  # every test run (targeted and suite), with its live output

    async def timed(self: TestRuns, *args: Any, **kwargs: Any) -> Any:
        nonlocal test_seconds
        start = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            test_seconds += time.perf_counter() - start

    TestRuns._run = timed  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        events = [e async for e in Session(repo, settings, chat_model=model, policy="full-auto")
                  .run("test_discounted_total fails; fix the discounted total", pinned=pinned)]
        wall = time.perf_counter() - start
    finally:
        TestRuns._run = original  # type: ignore[method-assign]
    final = events[-1]
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    prompt_tokens = sum(e.prompt_tokens for e in events if e.type == "usage")
    ready = next(e for e in events if e.type == "context_ready")
    return {"wall_s": wall, "setup_s": model.first_call_at - start, "model_s": model.model_seconds, "test_s": test_seconds,
            "steps": final.steps, "status": final.status, "prompt_tokens": prompt_tokens,
            "context_mode": ready.mode, "pinned": ready.pinned,
            "test_output_lines": sum(len(e.lines) for e in events if e.type == "test_output")}


def overhead_ms(run: dict[str, Any]) -> float:
    """The loop's own time per step: wall time less setup, model and test time.

    Session setup (open index, memory, undo store, sandbox probe, checkpointer, gather
    context) happens once per task: it is reported apart from the steps."""
    return (run["wall_s"] - run["setup_s"] - run["model_s"] - run["test_s"]) * 1000 / run["steps"]


def bare_stream_ms() -> float:
    """Per step: streaming the scripted answers straight from the replay model."""
    model = ReplayChatModel(steps=load_script(SCRIPTS / "two_file_fix.jsonl"))
    start = time.perf_counter()
    for _ in range(len(model.steps)):
        for _chunk in model.stream([HumanMessage("go")]):
            pass
    return (time.perf_counter() - start) * 1000 / len(model.steps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    baseline_ms = min(bare_stream_ms() for _ in range(5))
    print(json.dumps({"bench": "agent", "measure": "bare_replay_stream_ms_per_step",
                      "value": round(baseline_ms, 3)}))
    for fixture, library in (("shop", False), ("shop+library", True)):
        repo = make_repo(fixture.replace("+", "-"), library)
        tokens: dict[str, int] = {}
        for mode in ("whole-repo", "navigator"):
            runs = [asyncio.run(one_run(repo, mode)) for _ in range(args.runs)]
            # the first run builds the index cache (cold); later ones reuse it (warm)
            for label, sample in (("cold", runs[:1]), ("warm", runs[1:] or runs[:1])):
                best = min(sample, key=lambda r: r["wall_s"])
                own_ms = overhead_ms(best)
                print(json.dumps({
                    "bench": "agent", "fixture": fixture, "mode": mode, "index": label,
                    "measure": "overhead_ms_per_step_excl_model_tests_setup",
                    "value": round(own_ms, 1), "target_ms": TARGET_MS,
                    "overhead_ratio_vs_bare_replay_stream": round(own_ms / baseline_ms, 1),
                    "steps": best["steps"], "status": best["status"],
                    "setup_ms": round(best["setup_s"] * 1000, 1),
                    "model_ms": round(best["model_s"] * 1000, 1),
                    "tests_ms": round(best["test_s"] * 1000, 1),
                    "wall_ms": round(best["wall_s"] * 1000, 1)}))
            tokens[mode] = runs[-1]["prompt_tokens"]
            print(json.dumps({"bench": "agent", "fixture": fixture, "mode": mode,
                              "context_mode_used": runs[-1]["context_mode"],
                              "measure": "prompt_tokens_per_task", "value": tokens[mode]}))
        print(json.dumps({"bench": "agent", "fixture": fixture, "measure": "tokens_ratio",
                          "navigator_over_whole_repo": round(tokens["navigator"] / tokens["whole-repo"], 3)}))
        if library:  # pinned files are read at every model call: their cost per step
            runs = [asyncio.run(one_run(repo, "navigator", PINNED)) for _ in range(args.runs)]
            best = min(runs, key=lambda r: r["wall_s"])
            print(json.dumps({
                "bench": "agent", "fixture": fixture, "mode": "navigator", "index": "warm",
                "pinned": best["pinned"], "measure": "overhead_ms_per_step_with_pinned_files",
                "value": round(overhead_ms(best), 1), "target_ms": TARGET_MS,
                "baseline": "navigator warm without pins (above)", "steps": best["steps"],
                "status": best["status"], "prompt_tokens_per_task": runs[-1]["prompt_tokens"],
                "test_output_lines": best["test_output_lines"]}))
        shutil.rmtree(repo.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
