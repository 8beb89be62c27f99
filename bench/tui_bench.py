"""Benchmark the Engram app: launch to an interactive prompt, and frame time while streaming.

    python bench/tui_bench.py [REPO]      (default: bench/data/sympy, else a synthetic repo)

Prints one JSON line per measurement:
- ``launch``: seconds from process start to the prompt being focused on a painted screen
  (indexing continues in the background; ``index_done_s`` says when it finished), against
  the baseline ``bare_textual_launch``: a Textual app with only an Input, in the same run.
- ``stream_5000``: the longest event-loop stall (no frame can be drawn while the loop is
  blocked) and the longest single screen update while 5,000 lines stream into the
  conversation, against the baseline ``richlog_stream_5000``: the same lines written to
  Textual's own RichLog (no markdown, no chunking).
Targets: launch <= 1.0 s; no frame over 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAUNCH_TARGET_S = 1.0
FRAME_TARGET_MS = 50.0
LINES = 5_000

_CHILD = r"""
import sys, time, json


def main():
    t_start = float(sys.argv[2])
    sys.path.insert(0, sys.argv[3])
    root, mode = sys.argv[1], sys.argv[4]
    if mode == "bare":
        from textual.app import App
        from textual.widgets import Input

        class Bare(App):
            def compose(self):
                yield Input(id="prompt")

            def on_mount(self):
                self.query_one(Input).focus()
                self.call_after_refresh(self.ready)

            def ready(self):
                print(json.dumps({"ready_s": time.time() - t_start}), flush=True)
                self.exit()

        Bare().run(headless=True, size=(160, 48))
        return
    from pathlib import Path
    from agent.config import load_settings
    from tui.app import EngramApp

    class Timed(EngramApp):
        def on_mount(self):
            # Textual runs EngramApp.on_mount too (handlers along the MRO): no super() call,
            # which would start the app's background work (indexing included) twice.
            self.call_after_refresh(self.ready)

        def ready(self):
            self.ready_s = time.time() - t_start
            self.set_interval(0.05, self.check)

        def check(self):
            activity = self.status_bar.info.activity
            if self.index_ready.is_set() and not activity.startswith("indexing "):
                print(json.dumps({"ready_s": self.ready_s, "index_done_s": time.time() - t_start,
                                  "focused": getattr(self.focused, "id", None),
                                  "index_result": activity}), flush=True)
                self.exit()

    Timed(Path(root), load_settings(Path(root))).run(headless=True, size=(160, 48))


if __name__ == "__main__":  # the indexer's spawned workers import this file too
    main()
"""


def _launch(root: Path, mode: str) -> dict[str, Any]:
    # A file, not ``-c``: the indexer's worker processes start by importing the main module.
    script = root.parent / "tui_bench_child.py"
    script.write_text(_CHILD, encoding="utf-8")
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(script), str(root), repr(t0), str(ROOT), mode],
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"launch child failed ({mode}): {proc.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


def _prepare_repo(arg: str | None) -> tuple[Path, str, Path]:
    """A private copy (so the bench never touches another benchmark's cache)."""
    tmp = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    source = Path(arg) if arg else ROOT / "bench" / "data" / "sympy"
    if source.is_dir():
        target = tmp / source.name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".engram", "__pycache__"))
        return target, f"copy of {source}", tmp
    target = tmp / "synthetic"
    for i in range(1500):  # sympy-sized: 1,500 Python modules of ~200 lines
        module = target / f"pkg{i // 50}" / f"mod{i}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text("".join(f"def f{i}_{j}(x):\n    return x + {j}\n\n" for j in range(66)))
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target, "synthetic 1,500-module repo", tmp


def _stream_text() -> list[str]:
    lines = []
    for i in range(LINES):
        if i % 50 == 0:
            lines.append("```python" if (i // 50) % 2 == 0 else "```")
        elif (i // 50) % 2 == 0:
            lines.append(f"value_{i} = compute({i})  # line {i}")
        else:
            lines.append(f"Paragraph line {i} with **bold** and `code` words.")
    text = "\n".join(lines) + "\n"
    return [text[i:i + 40] for i in range(0, len(text), 40)]  # token-sized pieces


class _Stalls:
    """Longest gaps of a 5 ms heartbeat on the app's event loop."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.running = True

    async def beat(self) -> None:
        last = time.perf_counter()
        while self.running:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.gaps.append((now - last - 0.005) * 1000)
            last = now


_RECORDING = [False]
"""Frames are recorded only while lines stream (not the app's first paint)."""


def _timed_updates(app: Any, sink: list[float], cpu_sink: list[float]) -> None:
    """Time every frame: the screen's layout pass plus its compositor render (what Textual
    does on each refresh tick before writing to the terminal)."""
    from textual.screen import Screen

    pending = [0.0, 0.0]
    if getattr(Screen, "_bench_wrapped", False):
        Screen._bench_sinks[:] = [sink, cpu_sink]  # type: ignore[attr-defined]
        return
    Screen._bench_wrapped = True  # type: ignore[attr-defined]
    Screen._bench_sinks = [sink, cpu_sink]  # type: ignore[attr-defined]

    def timed(original: Any, ends_frame: bool) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            t, c = time.perf_counter(), time.thread_time()
            try:
                return original(self, *args, **kwargs)
            finally:
                pending[0] += time.perf_counter() - t
                pending[1] += time.thread_time() - c
                if ends_frame:
                    if _RECORDING[0]:
                        Screen._bench_sinks[0].append(pending[0] * 1000)  # type: ignore[attr-defined]
                        Screen._bench_sinks[1].append(pending[1] * 1000)  # type: ignore[attr-defined]
                    pending[0] = pending[1] = 0.0
        return wrapper

    Screen._refresh_layout = timed(Screen._refresh_layout, False)  # type: ignore[method-assign]
    Screen._compositor_refresh = timed(Screen._compositor_refresh, True)  # type: ignore[method-assign]


async def _stream_engram(pieces: list[str]) -> dict[str, float]:
    from agent.config import load_settings
    from agent.events import AssistantMessage, MessageDelta, SessionFinished, SessionStarted
    from tui.app import EngramApp

    class Source:
        session_id = "bench"

        async def run(self, task: str, *, session_id: str | None = None,
                      pinned: Any = ()) -> Any:
            yield SessionStarted(task=task, root="/", model="bench", policy="suggest")
            for piece in pieces:
                yield MessageDelta(text=piece)
                await asyncio.sleep(0)
            yield AssistantMessage(text="", step=1)
            yield SessionFinished(status="success", reason="done")

    root = Path(tempfile.mkdtemp(prefix="tui-bench-stream-"))
    app = EngramApp(root, load_settings(None), session_factory=lambda s, p: Source(),
                    background_index=False)
    stalls, updates, cpu = _Stalls(), [], []
    async with app.run_test(size=(160, 48)) as pilot:
        _timed_updates(app, updates, cpu)
        # The first paint and the start-up workers (model/sandbox probe, warm-up imports) are
        # not part of it: their imports hold the GIL, which shows up as long wall-clock frames
        # (not CPU) if lines stream while they run. A real answer starts after them anyway:
        # a session's setup imports the same modules before the first token.
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        _RECORDING[0] = True
        beat = asyncio.create_task(stalls.beat())
        t0 = time.perf_counter()
        app.send_task("stream")
        while app.task_running:
            await pilot.pause(0.02)
        seconds = time.perf_counter() - t0
        _RECORDING[0] = False
        stalls.running = False
        await beat
        lines = app.conversation.line_count
        shown = app.conversation.plain_text()
        if "✘ error" in shown:
            raise SystemExit("the streamed task failed: " + shown[shown.index("✘ error"):][:300])
        missing = _missing_lines(shown)
    shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, "lines_shown": lines, "lines_missing": missing,
            **_summary(stalls.gaps, updates, cpu)}


def _missing_lines(shown: str) -> int:
    """Streamed lines whose words are not on screen (``lines_shown`` is smaller than
    ``LINES`` by design: fences are not drawn and prose lines merge into wrapped paragraphs)."""
    words = " ".join(shown.split())
    return sum(1 for i in range(LINES) if i % 50 and (
        f"value_{i} = compute({i}) # line {i}" if (i // 50) % 2 == 0
        else f"Paragraph line {i} with bold and code words.") not in words)


async def _stream_richlog(pieces: list[str]) -> dict[str, float]:
    from textual.app import App, ComposeResult
    from textual.widgets import RichLog

    class Plain(App[None]):
        def compose(self) -> ComposeResult:
            yield RichLog(id="log")

    app, stalls, updates, cpu = Plain(), _Stalls(), [], []
    async with app.run_test(size=(160, 48)) as pilot:
        _timed_updates(app, updates, cpu)
        await pilot.pause(0.3)
        _RECORDING[0] = True
        beat = asyncio.create_task(stalls.beat())
        log = app.query_one(RichLog)
        t0 = time.perf_counter()
        partial = ""
        for piece in pieces:
            partial += piece
            *done, partial = partial.split("\n")
            for line in done:
                log.write(line)
            await asyncio.sleep(0)
        await pilot.pause(0.05)
        seconds = time.perf_counter() - t0
        _RECORDING[0] = False
        stalls.running = False
        await beat
    return {"seconds": seconds, **_summary(stalls.gaps, updates, cpu)}


def _summary(gaps: list[float], updates: list[float], cpu: list[float]) -> dict[str, float]:
    """Stalls of the event loop and frame times (wall clock and the UI thread's CPU time; on a
    shared machine wall time includes waiting for a core)."""
    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values, default=0.0)

    return {"max_stall_ms": round(max(gaps, default=0.0), 1), "p99_stall_ms": round(p99(gaps), 1),
            "frames": len(updates), "median_frame_ms": round(statistics.median(updates), 1) if updates else 0.0,
            "max_frame_ms": round(max(updates, default=0.0), 1),
            "p99_frame_ms": round(p99(updates), 1), "max_frame_cpu_ms": round(max(cpu, default=0.0), 1),
            "p99_frame_cpu_ms": round(p99(cpu), 1)}


def main() -> None:
    repo, described, tmp = _prepare_repo(sys.argv[1] if len(sys.argv) > 1 else None)
    try:
        files = len(subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=repo,
                                   capture_output=True, text=True).stdout.splitlines())
        bare = _launch(repo, "bare")
        print(json.dumps({"name": "bare_textual_launch", "seconds": round(bare["ready_s"], 3)}))
        app = _launch(repo, "engram")
        print(json.dumps({"name": "launch", "repo": described, "files": files,
                          "seconds": round(app["ready_s"], 3), "target_s": LAUNCH_TARGET_S,
                          "vs_bare_textual": round(app["ready_s"] / bare["ready_s"], 2),
                          "index_done_s": round(app["index_done_s"], 2),
                          "index_result": app["index_result"], "prompt_focused": app["focused"] == "prompt",
                          "meets_target": app["ready_s"] <= LAUNCH_TARGET_S}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pieces = _stream_text()
    base = asyncio.run(_stream_richlog(pieces))
    print(json.dumps({"name": "richlog_stream_5000", **base}))
    ours = asyncio.run(_stream_engram(pieces))
    print(json.dumps({"name": "stream_5000", "pieces": len(pieces), **ours,
                      "target_ms": FRAME_TARGET_MS,
                      "max_frame_vs_richlog": round(ours["max_frame_ms"] / max(base["max_frame_ms"], 0.1), 2),
                      "meets_target": ours["max_frame_ms"] <= FRAME_TARGET_MS}))


if __name__ == "__main__":
    main()
