"""Fixtures of the API tests: a shop repository and a live server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from agent.api.settings import ServerSettings
from tests.agent.api.helpers import SHOP_FILES, UNITTEST, LiveServer, load_example_client, start_server


@pytest.fixture
def shop_repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(SHOP_FILES, name="shop")


@pytest.fixture
def api_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerSettings:
    monkeypatch.setenv("ENGRAM_SANDBOX__TEST_COMMAND", UNITTEST)
    return ServerSettings(port=0, roots=[tmp_path], state_dir=tmp_path / "server-state",
                          max_body_bytes=4096)


@pytest.fixture
def live(api_settings: ServerSettings) -> Iterator[LiveServer]:
    server = start_server(api_settings)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def editor_client() -> ModuleType:
    return load_example_client()


@pytest.fixture
def client(live: LiveServer, editor_client: ModuleType) -> Iterator[object]:
    c = editor_client.EngramClient(live.url, live.token)
    yield c
    c.close()
