"""`engram acp` as a subprocess, driven by the SDK's client side through whole prompt turns."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, resource_link_block, spawn_agent_process, text_block
from acp.schema import (
    AllowedOutcome, ClientCapabilities, DeniedOutcome, FileSystemCapabilities, ReadTextFileResponse,
    RequestPermissionResponse, WriteTextFileResponse,
)

from tests.agent.api.helpers import FIXED_PRICES, SHOP_FILES, UNITTEST, fix_script


class RecordingClient:
    """An editor that answers every permission request with ``decision``."""

    def __init__(self, decision: str) -> None:
        self.decision = decision
        self.updates: list[Any] = []
        self.permissions: list[Any] = []
        self.writes: dict[str, str] = {}
        self.reads: list[str] = []
        self.conn: Any = None

    async def request_permission(self, options: list[Any], session_id: str, tool_call: Any,
                                 **kwargs: Any) -> RequestPermissionResponse:
        self.permissions.append(tool_call)
        assert {o.option_id for o in options} == {"allow", "reject"}
        if self.decision == "cancel":  # the user stops the turn while the question is open
            await self.conn.cancel(session_id=session_id)
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=self.decision))

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def read_text_file(self, path: str, session_id: str, **kwargs: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        return ReadTextFileResponse(content="# unsaved buffer: note the discount is a percentage\n")

    async def write_text_file(self, content: str, path: str, session_id: str,
                              **kwargs: Any) -> WriteTextFileResponse:
        self.writes[path] = content
        return WriteTextFileResponse()

    def of(self, kind: str) -> list[Any]:
        return [u for u in self.updates if u.session_update == kind]


def _command() -> list[str]:
    engram = shutil.which("engram")
    return [engram, "acp"] if engram else [sys.executable, "-m", "tui.cli", "acp"]


async def _turn(repo: Path, script: Path, decision: str, state: Path) -> tuple[RecordingClient, Any, str]:
    client = RecordingClient(decision)
    env = {**os.environ, "ENGRAM_SANDBOX__TEST_COMMAND": UNITTEST}
    cmd = _command()
    args = [*cmd[1:], "--policy", "suggest", "--model", f"replay:{script}", "--state-dir", str(state)]
    async with spawn_agent_process(client, cmd[0], *args, env=env, cwd=repo,
                                   transport_kwargs={"stderr": None}) as (conn, _proc):
        client.conn = conn
        init = await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=True, write_text_file=True)))
        assert init.agent_capabilities.load_session
        session = await conn.new_session(cwd=str(repo), mcp_servers=[])
        linked = resource_link_block("prices.py", f"file://{repo}/shop/prices.py")
        response = await asyncio.wait_for(conn.prompt(
            session_id=session.session_id,
            prompt=[text_block("fix the discounted total"), linked]), 90)
    return client, response, session.session_id


async def test_prompt_turn_with_permission_granted(make_repo, tmp_path: Path) -> None:
    repo = make_repo(SHOP_FILES, name="shop")
    client, response, sid = await _turn(repo, fix_script(tmp_path), "allow", tmp_path / "acp-state")
    assert response.stop_reason == "end_turn"
    # one permission request for the edit set, before anything was written
    assert len(client.permissions) == 1 and client.permissions[0].kind == "edit"
    assert "shop/prices.py" in client.permissions[0].title
    assert client.of("agent_message_chunk") and client.of("plan")
    plan = client.of("plan")[0]
    assert len(plan.entries) == 3
    edits = [u for u in client.of("tool_call") if u.kind == "edit"]
    assert edits and edits[0].status == "pending"
    done = [u for u in client.of("tool_call_update") if u.tool_call_id == edits[0].tool_call_id]
    assert done and done[-1].status == "completed"
    diffs = [c for c in done[-1].content if c.type == "diff"]
    assert {Path(d.path).name for d in diffs} == {"prices.py", "cart.py"}
    prices = next(d for d in diffs if d.path.endswith("prices.py"))
    assert prices.old_text == SHOP_FILES["shop/prices.py"] and prices.new_text.endswith(FIXED_PRICES)
    # the linked file was read through the editor; applied files were handed back to it
    assert client.reads == [f"{repo}/shop/prices.py"]
    assert client.writes[f"{repo}/shop/prices.py"].endswith(FIXED_PRICES)
    assert (repo / "shop/prices.py").read_text().endswith(FIXED_PRICES)
    tests = [u for u in client.of("tool_call") if u.kind == "execute"]
    assert tests and tests[-1].status == "completed"


async def test_prompt_turn_with_permission_refused_and_load(make_repo, tmp_path: Path) -> None:
    repo = make_repo(SHOP_FILES, name="shop")
    state = tmp_path / "acp-state"
    client, response, sid = await _turn(repo, fix_script(tmp_path), "reject", state)
    assert response.stop_reason == "end_turn"
    assert len(client.permissions) == 1
    assert (repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    assert not client.writes
    failed = [u for u in client.of("tool_call_update") if u.status == "failed"]
    assert failed and "declined" in failed[0].content[0].content.text

    # a new process replays the session on session/load
    loader = RecordingClient("allow")
    cmd = _command()
    async with spawn_agent_process(loader, cmd[0], *cmd[1:], "--state-dir", str(state),
                                   env=dict(os.environ), cwd=repo,
                                   transport_kwargs={"stderr": None}) as (conn, _proc):
        await conn.initialize(protocol_version=PROTOCOL_VERSION)
        await conn.load_session(cwd=str(repo), session_id=sid, mcp_servers=[])
        with pytest.raises(Exception):
            await conn.load_session(cwd=str(repo), session_id="nope", mcp_servers=[])
    users = loader.of("user_message_chunk")
    assert users and "fix the discounted total" in users[0].content.text
    assert loader.of("agent_message_chunk") and not loader.permissions


async def test_cancel_during_a_permission_request(make_repo, tmp_path: Path) -> None:
    repo = make_repo(SHOP_FILES, name="shop")
    client, response, _sid = await _turn(repo, fix_script(tmp_path), "cancel", tmp_path / "acp-state")
    assert response.stop_reason == "cancelled"
    assert len(client.permissions) == 1
    assert (repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
