"""A small client for Engram's HTTP API: what an editor plugin does, end to end.

    python examples/editor_client.py /path/to/repo "fix the failing date parser test"

It reads the token from ``~/.config/engram/token``, opens a session, starts the task,
follows the event stream (reconnecting with ``Last-Event-ID`` when the connection drops),
answers approvals from the terminal, and prints the outcome. Needs ``httpx`` (and
``websockets`` for ``ws_events``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8765"


def read_token() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return (Path(base) / "engram" / "token").read_text(encoding="utf-8").strip()


class EngramClient:
    """Thin wrapper over the ``/v1`` routes."""

    def __init__(self, base_url: str = DEFAULT_URL, token: str | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token if token is not None else read_token()
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {self.token}"})

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/v1{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    # sessions and tasks
    def create_session(self, root: str, *, policy: str | None = None, model: str | None = None,
                       mcp_servers: dict[str, Any] | None = None) -> str:
        body = {"root": root, "policy": policy, "model": model, "mcp_servers": mcp_servers or {}}
        return self._call("POST", "/sessions", json=body)["session"]["id"]

    def session(self, sid: str) -> dict[str, Any]:
        return self._call("GET", f"/sessions/{sid}")

    def prompt(self, sid: str, text: str, pinned: list[str] | None = None) -> dict[str, Any]:
        """Start a task; ``pinned`` repository files are shown to the model in full."""
        return self._call("POST", f"/sessions/{sid}/prompt", json={"text": text, "pinned": pinned or []})

    def approve(self, sid: str, request_id: str, note: str = "",
                rejected_hunks: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """Approve; for an edit set, ``rejected_hunks`` (path -> hunk indices) leaves hunks out."""
        body: dict[str, Any] = {"note": note, "rejected_hunks": rejected_hunks or {}}
        return self._call("POST", f"/sessions/{sid}/approvals/{request_id}/approve", json=body)

    def reject(self, sid: str, request_id: str, note: str = "") -> dict[str, Any]:
        return self._call("POST", f"/sessions/{sid}/approvals/{request_id}/reject", json={"note": note})

    def cancel(self, sid: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{sid}/cancel")

    def resume(self, sid: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{sid}/resume")

    def undo(self, sid: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{sid}/undo")

    def diff(self, sid: str) -> dict[str, Any]:
        return self._call("GET", f"/sessions/{sid}/diff")

    def read_file(self, sid: str, path: str) -> str:
        return self._call("GET", f"/sessions/{sid}/files", params={"path": path})["content"]

    def search(self, sid: str, query: str, k: int = 10) -> list[dict[str, Any]]:
        return self._call("GET", f"/sessions/{sid}/search", params={"q": query, "k": k})

    # the event stream
    def events(self, sid: str, after: int = 0, *, until_finished: bool = True,
               max_events: int | None = None, retries: int = 20) -> Iterator[dict[str, Any]]:
        """Events with ``seq > after``; reconnects with ``Last-Event-ID`` after a drop, so
        nothing is missed or repeated. Ends after ``finished`` when ``until_finished``."""
        last, seen = after, 0
        for _attempt in range(retries):
            try:
                headers = {"Last-Event-ID": str(last)} if last else {}
                params = {"close_on_finish": "true"} if until_finished else {}
                with self.http.stream("GET", f"/v1/sessions/{sid}/events", headers=headers,
                                      params=params, timeout=httpx.Timeout(30.0, read=60.0)) as resp:
                    if resp.status_code != 200:
                        raise RuntimeError(f"events: {resp.status_code} {resp.read().decode()}")
                    for event in parse_sse(resp.iter_lines()):
                        last = int(event["seq"])
                        seen += 1
                        yield event
                        if until_finished and event["type"] == "finished":
                            return
                        if max_events is not None and seen >= max_events:
                            return
                if until_finished:
                    continue  # the server closed early: reconnect and go on from `last`
                return
            except (httpx.TransportError, httpx.RemoteProtocolError):
                time.sleep(0.2)
        raise RuntimeError(f"event stream of {sid} dropped {retries} times")

    def ws_events(self, sid: str, after: int = 0, *, until_finished: bool = True) -> Iterator[dict[str, Any]]:
        """The same stream over a WebSocket."""
        from websockets.sync.client import connect

        url = self.base_url.replace("http", "ws", 1) + f"/v1/sessions/{sid}/events/ws?after={after}"
        if until_finished:
            url += "&close_on_finish=true"
        with connect(url, additional_headers={"Authorization": f"Bearer {self.token}"}) as ws:
            for message in ws:
                event = json.loads(message)
                if event.get("type") == "keep-alive":
                    continue
                yield event


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Events of a ``text/event-stream`` (the ``data:`` JSON of each)."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield json.loads("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def run_task(client: EngramClient, root: str, task: str,
             decide: Callable[[dict[str, Any]], bool], **session: Any) -> dict[str, Any]:
    """Open a session, run ``task``, answer approvals with ``decide``; the ``finished`` event."""
    sid = client.create_session(root, **session)
    start = client.prompt(sid, task)["last_seq"]  # events of this task come after it
    finished: dict[str, Any] = {}
    for event in client.events(sid, after=start):
        if event["type"] == "approval_requested":
            answer = client.approve if decide(event) else client.reject
            answer(sid, event["request_id"])
        elif event["type"] == "finished":
            finished = event
    return finished


def _ask(event: dict[str, Any]) -> bool:
    print(f"\n{event['summary']}\n{event.get('detail', '')}")
    return input("approve? [y/N] ").strip().lower().startswith("y")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    client = EngramClient(os.environ.get("ENGRAM_API_URL", DEFAULT_URL))
    try:
        done = run_task(client, str(Path(argv[0]).resolve()), argv[1], _ask)
    finally:
        client.close()
    print(f"{done.get('status')}: {done.get('reason')}")
    return 0 if done.get("status") == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
