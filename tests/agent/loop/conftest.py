"""Fixture repositories and helpers for full agent runs driven by the replay model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.shop_fixture import SECRET_FILE, UNITTEST
from tests.shop_fixture import SHOP_FILES as BASE_SHOP_FILES

from langchain_core.messages import BaseMessage

from agent.config import EngramSettings, load_settings
from agent.events import EventBase
from runtime.llm import ReplayChatModel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCRIPTS = FIXTURES / "scripts"

SHOP_FILES: dict[str, str] = {**BASE_SHOP_FILES, "notes.txt": "scratch notes\n", **SECRET_FILE}


@pytest.fixture
def shop_repo(make_repo: Callable[..., Path]) -> Path:
    """A repository whose one test fails because of a bug in each of two files."""
    return make_repo(SHOP_FILES, name="shop")


def snapshot_files(root: Path) -> dict[str, bytes]:
    """Every file outside .git and .engram, by path."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith((".git/", ".engram/")) and "__pycache__" not in rel:
            out[rel] = p.read_bytes()
    return out


def settings_for(script: Path | str, **agent: Any) -> EngramSettings:
    """Settings for a replay run: the script, the fast unittest command, agent overrides."""
    base = load_settings(None)
    return base.model_copy(update={
        "model": base.model.model_copy(update={"provider": "replay", "model": str(script)}),
        "sandbox": base.sandbox.model_copy(update={"test_command": UNITTEST}),
        "agent": base.agent.model_copy(update=agent),
    })


def write_script(path: Path, steps: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in steps), encoding="utf-8")
    return path


def script_steps(name: str) -> list[dict[str, Any]]:
    """The steps of a stored script in tests/agent/fixtures/scripts."""
    lines = (SCRIPTS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(ln) for ln in lines if ln.strip() and not ln.startswith("#")]


async def collect(stream: AsyncIterator[EventBase], *, answer: Callable[[EventBase], Any] | None = None,
                  limit: int | None = None) -> list[EventBase]:
    """All events of a run; ``answer(event)`` is called on each (e.g. to approve)."""
    events: list[EventBase] = []
    async for event in stream:
        events.append(event)
        if answer is not None:
            answer(event)
        if limit is not None and len(events) >= limit:
            break
    return events


def of_type(events: list[EventBase], kind: str) -> list[Any]:
    return [e for e in events if getattr(e, "type", "") == kind]


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


class RecordingReplay(ReplayChatModel):
    """Replay that keeps every prompt it was sent (``RecordingReplay(steps=..., prompts=[])``)."""

    prompts: list[list[BaseMessage]] = []  # noqa: RUF012 - a pydantic field; each model copies it

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any):  # type: ignore[override]
        self.prompts.append(list(messages))
        yield from super()._stream(messages, *args, **kwargs)
