"""MCP tools reach the model next to Engram's own, always behind the approval policy."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.api.db import open_db
from agent.api.eventlog import EventLog
from agent.api.runner import TaskRunner, TaskSpec
from agent.events import EventBase
from agent.mcp.naming import model_name, tool_definition
from agent.mcp.settings import McpServerConfig, McpSettings
from tests.agent.api.helpers import PLAN, write_script

LOOKUP = {"content": "Reading the ticket first.",
          "tool_calls": [{"name": "tracker__lookup_ticket", "args": {"id": 7}}]}
ANSWER = {"content": "The ticket confirms the bug in total(); nothing else to do."}


async def _run(repo: Path, tmp_path: Path, steps: list[dict], approve: bool | None,
               policy: str = "suggest") -> list[EventBase]:
    script = write_script(tmp_path / "mcp.jsonl", steps)
    log = EventLog(open_db(tmp_path / "state" / "server.sqlite"))
    spec = TaskSpec(session_id="s1", root=repo, policy=policy, thread_id="s1-1",
                    task="check the ticket", model_ref=f"replay:{script}")
    runner = TaskRunner(spec, log, asyncio.Lock())
    seen: list[EventBase] = []

    async def on_event(event: EventBase) -> None:
        seen.append(event)
        if event.type == "approval_requested" and approve is not None:  # type: ignore[attr-defined]
            runner.answer(event.request_id, approve)  # type: ignore[attr-defined]

    runner.on_event = on_event
    await asyncio.wait_for(runner.run(), 60)
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    return seen


def _types(events: list[EventBase]) -> list[str]:
    return [e.type for e in events]  # type: ignore[attr-defined]


async def test_mcp_tool_is_called_after_approval(mcp_repo: Path, tmp_path: Path) -> None:
    events = await _run(mcp_repo, tmp_path, [PLAN, LOOKUP, ANSWER], approve=True)
    types = _types(events)
    # the server that cannot start is reported; the session goes on without it
    broken = [e for e in events if e.type == "notice" and "broken" in e.text]  # type: ignore[attr-defined]
    assert broken and "goes on without it" in broken[0].text  # type: ignore[attr-defined]
    asked = types.index("approval_requested")
    request = events[asked]
    assert request.kind == "command" and "tracker.lookup_ticket" in request.summary  # type: ignore[attr-defined]
    assert asked < types.index("tool_call")  # approval first, then the call
    call = events[types.index("tool_call")]
    assert call.name == "tracker.lookup_ticket" and call.args == {"id": 7}  # type: ignore[attr-defined]
    result = events[types.index("tool_result")]
    assert result.ok and "ticket 7: total() skips the first price" in result.output  # type: ignore[attr-defined]
    answer = [e for e in events if e.type == "assistant_message"][-1]
    assert "ticket 7" in answer.text and "nothing else to do" in answer.text  # type: ignore[attr-defined]
    assert events[-1].type == "finished" and events[-1].status != "error"  # type: ignore[attr-defined]


async def test_rejected_mcp_call_does_not_run(mcp_repo: Path, tmp_path: Path) -> None:
    events = await _run(mcp_repo, tmp_path, [PLAN, LOOKUP, ANSWER], approve=False)
    assert "approval_requested" in _types(events) and "tool_call" not in _types(events)
    given = [e for e in events if e.type == "approval_given"]
    assert given and not given[0].approved and given[0].by == "user"  # type: ignore[attr-defined]
    answer = [e for e in events if e.type == "assistant_message"][-1]
    assert "declined" in answer.text  # type: ignore[attr-defined]


async def test_full_auto_approves_visibly_and_a_dying_server_is_survived(
        mcp_repo: Path, tmp_path: Path) -> None:
    crash = {"content": "", "tool_calls": [{"name": "tracker__crash", "args": {}}]}
    again = {"content": "", "tool_calls": [{"name": "tracker__lookup_ticket", "args": {"id": 1}}]}
    events = await _run(mcp_repo, tmp_path, [PLAN, crash, again, ANSWER], approve=None,
                        policy="full-auto")
    given = [e for e in events if e.type == "approval_given"]
    assert given and all(g.by == "policy" for g in given)  # type: ignore[attr-defined]
    stopped = [e for e in events if e.type == "notice" and "tracker" in e.text]  # type: ignore[attr-defined]
    assert stopped and "goes on without it" in stopped[0].text  # type: ignore[attr-defined]
    results = [e for e in events if e.type == "tool_result"]
    assert results and not results[0].ok  # type: ignore[attr-defined]
    assert events[-1].type == "finished" and events[-1].status != "error"  # type: ignore[attr-defined]


def test_mcp_list_shows_servers_and_tools(mcp_repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "mcp", "list", "--json", "-C", str(mcp_repo)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    servers = {s["name"]: s for s in json.loads(proc.stdout)["servers"]}
    assert servers["tracker"]["up"] and servers["tracker"]["transport"] == "stdio"
    names = [t["name"] for t in servers["tracker"]["tools"]]
    assert "tracker.lookup_ticket" in names
    assert servers["tracker"]["tools"][names.index("tracker.lookup_ticket")]["model_name"] == "tracker__lookup_ticket"
    assert not servers["broken"]["up"] and servers["broken"]["error"]


def test_names_and_settings() -> None:
    assert model_name("docs", "search.v2") == "docs__search_v2"
    assert model_name("docs", "search", dotted=True) == "docs.search"
    definition = tool_definition("docs__search", "", {"type": "object", "properties": {"q": {"type": "string"}}})
    assert definition["function"]["parameters"]["properties"]["q"] == {"type": "string"}
    with pytest.raises(ValueError, match="exactly one"):
        McpServerConfig(command="x", url="http://127.0.0.1:1/mcp")
    with pytest.raises(ValueError, match="server name"):
        McpSettings(servers={"bad.name": McpServerConfig(command="x")})
