"""Shared by the API, ACP and MCP tests: a fixture repository, replay scripts, a live server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.shop_fixture import SECRET_FILE, UNITTEST
from tests.shop_fixture import SHOP_FILES as BASE_SHOP_FILES
REPO_ROOT = Path(__file__).resolve().parents[3]

SHOP_FILES: dict[str, str] = {**BASE_SHOP_FILES, **SECRET_FILE}

PLAN = {"content": "1. Fix apply_discount in shop/prices.py.\n2. Fix total in shop/cart.py.\n3. Run the tests."}
FIX = {"content": "Both bugs at once.\n\nshop/prices.py\n```python\n<<<<<<< SEARCH\n    return price * pct / 100\n"
                  "=======\n    return price * (100 - pct) / 100\n>>>>>>> REPLACE\n```\n",
       "tool_calls": [{"name": "edit_file", "args": {
           "path": "shop/cart.py",
           "search": "    return sum(apply_discount(p, pct) for p in prices[1:])\n",
           "replace": "    return sum(apply_discount(p, pct) for p in prices)\n"}}]}
DONE = {"content": "Done: apply_discount subtracts the discount and total sums every price."}
FIXED_PRICES = "    return price * (100 - pct) / 100\n"


def write_script(path: Path, steps: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in steps), encoding="utf-8")
    return path


def fix_script(folder: Path, name: str = "fix.jsonl") -> Path:
    """The model plans, fixes both files in one edit set, and says it is done."""
    return write_script(folder / name, [PLAN, FIX, DONE])


def load_example_client() -> ModuleType:
    """``examples/editor_client.py`` (not a package) as a module."""
    path = REPO_ROOT / "examples" / "editor_client.py"
    spec = importlib.util.spec_from_file_location("editor_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real uvicorn serving the app on 127.0.0.1, in a thread of the test process."""

    url: str
    token: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the server did not stop"


def start_server(settings: Any) -> LiveServer:
    import uvicorn

    from agent.api.app import create_app
    from agent.api.auth import load_or_create_token

    token = load_or_create_token()
    config = uvicorn.Config(create_app(settings, token), host="127.0.0.1", port=settings.port,
                            log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the server failed to start")
        threading.Event().wait(0.025)
    port = server.servers[0].sockets[0].getsockname()[1]
    return LiveServer(f"http://127.0.0.1:{port}", token, server, thread)
