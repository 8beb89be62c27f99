"""A tiny stdio MCP server (the SDK's MCPServer, formerly FastMCP) and a shop repository."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agent.api.helpers import SHOP_FILES, UNITTEST

TRACKER_SERVER = '''
import os
from mcp.server.mcpserver import MCPServer

server = MCPServer("tracker")


@server.tool()
def lookup_ticket(id: int) -> str:
    """The text of an issue-tracker ticket."""
    return f"ticket {id}: total() skips the first price"


@server.tool()
def crash() -> str:
    """Stop the server (to test a server that dies)."""
    os._exit(3)


if __name__ == "__main__":
    server.run()
'''


@pytest.fixture
def tracker_server(tmp_path: Path) -> Path:
    path = tmp_path / "tracker_server.py"
    path.write_text(TRACKER_SERVER, encoding="utf-8")
    return path


@pytest.fixture
def mcp_repo(make_repo: Callable[..., Path], tracker_server: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shop repository with the tracker server in its .engram/config.toml."""
    monkeypatch.setenv("ENGRAM_SANDBOX__TEST_COMMAND", UNITTEST)
    repo = make_repo(SHOP_FILES, name="shop")
    (repo / ".engram").mkdir(exist_ok=True)
    (repo / ".engram" / "config.toml").write_text(
        "[mcp.servers.tracker]\n"
        f"command = {sys.executable!r}\n"
        f"args = [{str(tracker_server)!r}]\n"
        "\n[mcp.servers.broken]\n"
        "command = \"/nonexistent/mcp-server\"\n", encoding="utf-8")
    return repo
