"""HTTP API load and crash benchmark on a real loopback server, with the replay model.

    python bench/api_load.py [--sessions 100] [--crash 20]

1. ``baseline_single``: one session alone on the server: its event latency (server event
   ``ts`` to client receipt over SSE) and task time.
2. ``concurrent``: ``--sessions`` sessions at once (four per repository, so the per-repo
   lock is exercised): all must finish ``success``, every stream must hold seq 1..N with no
   gap or repeat and match the stored log; p50/p99 event latency, ratios over the baseline.
3. ``crash``: ``--crash`` tasks running, ``kill -9`` the server, restart it, resume every
   interrupted session: none lost, every repository holds its whole edit set exactly once
   (never half of it), no writer leftovers, logs numbered without gaps across the restart.

Prints one JSON line per measurement. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
PER_REPO = 4


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com",
                    "-c", "init.defaultBranch=main", *args], cwd=repo, check=True,
                   capture_output=True)


def make_repo(path: Path) -> Path:
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "__init__.py").write_text("")
    (path / "pkg" / "core.py").write_text("def value():\n    return 1\n")
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "initial")
    return path


def script_for(folder: Path, tag: str) -> Path:
    """Plan, one edit set of two new files, done."""
    files = edit_files(tag)
    steps = [
        {"content": f"1. Add the two {tag} modules.\n2. Check them."},
        {"content": f"Adding both {tag} modules.", "tool_calls": [
            {"name": "write_file", "args": {"path": p, "content": c}} for p, c in files.items()]},
        {"content": f"Done: {tag} modules added."},
    ]
    path = folder / f"{tag}.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in steps))
    return path


def edit_files(tag: str) -> dict[str, str]:
    return {f"pkg/{tag}_a.py": f"A = {tag!r}\n", f"pkg/{tag}_b.py": f"from pkg.{tag}_a import A\nB = A\n"}


class Server:
    def __init__(self, base: Path, port: int) -> None:
        self.base, self.port = base, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(base / "config"),
                    "XDG_STATE_HOME": str(base / "state"),
                    "ENGRAM_SANDBOX__TEST_COMMAND": "true", "ENGRAM_MEMORY__ENABLED": "false"}

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "serve", "--host", HOST, "--port", str(self.port),
             "--root", str(self.base), "--policy", "full-auto"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.base / "server.log", "ab"))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start; see server.log")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def token(self) -> str:
        return (self.base / "config" / "engram" / "token").read_text().strip()


async def follow(http: httpx.AsyncClient, sid: str, after: int = 0,
                 stop_after_finish: bool = True) -> list[tuple[dict[str, Any], float]]:
    """SSE events with receipt times; reconnects with Last-Event-ID when dropped."""
    got: list[tuple[dict[str, Any], float]] = []
    last = after
    while True:
        try:
            headers = {"Last-Event-ID": str(last)} if last else {}
            async with http.stream("GET", f"/v1/sessions/{sid}/events", headers=headers,
                                   params={"close_on_finish": "true"}, timeout=None) as resp:
                data: list[str] = []
                async for line in resp.aiter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        event = json.loads("\n".join(data))
                        data = []
                        got.append((event, time.time()))
                        last = event["seq"]
                        if stop_after_finish and event["type"] == "finished":
                            return got
            if not stop_after_finish:
                return got
        except (httpx.TransportError, httpx.RemoteProtocolError):
            return got  # the server went away: the caller decides


def check_stream(events: list[dict[str, Any]], start: int = 1) -> bool:
    return [e["seq"] for e in events] == list(range(start, start + len(events)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_sessions(http: httpx.AsyncClient, base: Path, repos: list[Path], tags: list[str]
                       ) -> tuple[list[list[tuple[dict[str, Any], float]]], list[str], float]:
    sids = []
    for i, tag in enumerate(tags):
        body = {"root": str(repos[i // PER_REPO]), "model": f"replay:{script_for(base / 'scripts', tag)}"}
        sids.append((await http.post("/v1/sessions", json=body)).json()["session"]["id"])
    start = time.perf_counter()
    followers = [asyncio.create_task(follow(http, sid)) for sid in sids]
    await asyncio.gather(*(http.post(f"/v1/sessions/{sid}/prompt", json={"text": f"add {tag}"})
                           for sid, tag in zip(sids, tags)))
    streams = await asyncio.gather(*followers)
    return list(streams), sids, time.perf_counter() - start


async def load_phase(server: Server, base: Path, n: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", timeout=120,
                                 headers={"Authorization": f"Bearer {server.token}"},
                                 limits=httpx.Limits(max_connections=4 * n + 20)) as http:
        results = {}
        for name, count in (("baseline_single", 1), ("concurrent", n)):
            repos = [make_repo(base / f"{name}-repo{i}") for i in range((count + PER_REPO - 1) // PER_REPO)]
            tags = [f"{name[:4]}{i}" for i in range(count)]
            streams, sids, wall = await run_sessions(http, base, repos, tags)
            latencies = [(got - e["ts"]) * 1000 for stream in streams for e, got in stream]
            ok = sum(1 for s in streams if s and s[-1][0]["type"] == "finished" and s[-1][0]["status"] == "success")
            gapless = sum(1 for s in streams if check_stream([e for e, _ in s]))
            stored_same = 0
            for sid, stream in zip(sids, streams):
                again = await follow(http, sid)
                stored_same += [e for e, _ in again] == [e for e, _ in stream]
            files_ok = sum(1 for i, tag in enumerate(tags) if all(
                (repos[i // PER_REPO] / p).read_text() == c for p, c in edit_files(tag).items()))
            results[name] = {
                "bench": "api_load", "measurement": name, "sessions": count, "completed": ok,
                "streams_gapless": gapless, "streams_match_log": stored_same, "edits_whole": files_ok,
                "events": len(latencies), "p50_event_latency_ms": round(statistics.median(latencies), 2),
                "p99_event_latency_ms": round(pct(latencies, 0.99), 2), "wall_s": round(wall, 2),
                "tasks_per_s": round(count / wall, 2)}
        base_r, conc = results["baseline_single"], results["concurrent"]
        conc["p50_ratio_vs_baseline"] = round(conc["p50_event_latency_ms"] / max(base_r["p50_event_latency_ms"], 1e-3), 2)
        conc["p99_ratio_vs_baseline"] = round(conc["p99_event_latency_ms"] / max(base_r["p99_event_latency_ms"], 1e-3), 2)
        conc["throughput_ratio_vs_baseline"] = round(conc["tasks_per_s"] / max(base_r["tasks_per_s"], 1e-3), 2)
        return results


async def crash_phase(server: Server, base: Path, n: int, seed: int) -> dict[str, Any]:
    repos = [make_repo(base / f"crash-repo{i}") for i in range((n + PER_REPO - 1) // PER_REPO)]
    tags = [f"crash{i}" for i in range(n)]
    url = f"http://{HOST}:{server.port}"
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as http:
        sids = []
        for i, tag in enumerate(tags):
            body = {"root": str(repos[i // PER_REPO]), "model": f"replay:{script_for(base / 'scripts', tag)}"}
            sids.append((await http.post("/v1/sessions", json=body)).json()["session"]["id"])
        followers = [asyncio.create_task(follow(http, sid)) for sid in sids]
        for sid, tag in zip(sids, tags):
            await http.post(f"/v1/sessions/{sid}/prompt", json={"text": f"add {tag}"})
        await asyncio.sleep(random.Random(seed).uniform(0.8, 1.6))
        states = [(await http.get(f"/v1/sessions/{sid}")).json()["running"] for sid in sids]
        server.kill9()
        before = await asyncio.gather(*followers)
    running_at_kill = sum(states)
    half = sum(1 for i, tag in enumerate(tags) if 0 < sum(
        (repos[i // PER_REPO] / p).exists() for p in edit_files(tag)) < 2)
    server.start()
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as http:
        resumed, after_streams = 0, []
        for sid in sids:
            view = (await http.get(f"/v1/sessions/{sid}")).json()
            if view["session"]["state"] == "interrupted":
                await http.post(f"/v1/sessions/{sid}/resume")
                resumed += 1
        for sid in sids:
            after_streams.append(await follow(http, sid))  # whole log, from seq 1
        finished = [s[-1][0] for s in after_streams if s]
    whole = sum(1 for i, tag in enumerate(tags) if all(
        (repos[i // PER_REPO] / p).read_text() == c for p, c in edit_files(tag).items()
        if (repos[i // PER_REPO] / p).exists()) and all(
        (repos[i // PER_REPO] / p).exists() for p in edit_files(tag)))
    leftovers = sum(1 for r in repos for p in r.rglob("*.engram-*") if ".engram/" not in str(p))
    return {"bench": "api_load", "measurement": "crash_resume", "tasks": n,
            "running_at_kill": running_at_kill, "half_applied_at_kill": half,
            "resumed": resumed, "completed": sum(1 for f in finished if f.get("status") == "success"),
            "lost": n - len(finished), "edits_whole_after": whole, "writer_leftovers": leftovers,
            "logs_gapless": sum(1 for s in after_streams if check_stream([e for e, _ in s])),
            "events_seen_before_kill": sum(len(s) for s in before),
            "problems": [f"{f.get('status')}: {f.get('reason', '')[:160]}" for f in finished
                         if f.get("status") != "success"][:3]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--crash", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the temp folder (for a look).")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="engram-api-bench-")
    try:
        base = Path(tmp)
        (base / "scripts").mkdir()
        server = Server(base, free_port())
        server.start()
        try:
            for line in asyncio.run(load_phase(server, base, args.sessions)).values():
                print(json.dumps(line), flush=True)
            print(json.dumps(asyncio.run(crash_phase(server, base, args.crash, args.seed))), flush=True)
        finally:
            server.stop()
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
