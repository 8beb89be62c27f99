"""``--via-agent``: each problem solved by the agent (headless, full-auto, a step budget) in a
scratch repository holding the prompt as ``solution.py``; the file it leaves is the answer."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from evals.errors import EvalError
from evals.humaneval.generate import Generation, GenRequest

SOLUTION = "solution.py"


class AgentGenerator:
    """Runs one agent session per sample; the model comes from ``--model`` as for any task."""

    def __init__(self, model_ref: str, settings: Any, max_steps: int = 8) -> None:
        from agent.config import EngramSettings
        from runtime.llm import parse_model_ref

        try:
            self.model_settings = parse_model_ref(model_ref, getattr(settings, "model", None))
        except ValueError as exc:
            raise EvalError(str(exc)) from None
        self.settings = settings if isinstance(settings, EngramSettings) else EngramSettings()
        self.max_steps = max_steps
        self.name = f"agent:{self.model_settings.provider}:{self.model_settings.model}"
        self._shared: Any = None

    def _chat_model(self) -> Any:
        from runtime.llm import LLMError, make_chat_model

        if self._shared is not None:
            return self._shared
        try:
            model = make_chat_model(self.model_settings)
        except LLMError as exc:
            raise EvalError(str(exc)) from None
        if self.model_settings.provider != "replay":  # a replay script restarts per problem
            self._shared = model
        return model

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        for req in requests:
            started = time.monotonic()
            try:
                text, status = self._solve(req)
            except EvalError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed session is a failed sample
                message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                yield req, Generation("", "", "error", time.monotonic() - started, error=message)
                continue
            completion = "\n" + text if text != req.problem.prompt else ""
            yield req, Generation(text, completion, status, time.monotonic() - started)

    def _solve(self, req: GenRequest) -> tuple[str, str]:
        folder = Path(tempfile.mkdtemp(prefix="engram-he-agent-"))
        try:
            (folder / SOLUTION).write_text(req.problem.prompt, encoding="utf-8")
            for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "stub"]):
                subprocess.run(["git", "-c", "user.name=eval", "-c", "user.email=eval@invalid",
                                "-c", "commit.gpgsign=false", *args], cwd=folder, check=True,
                               capture_output=True)
            status = asyncio.run(self._drive(folder, req))
            return (folder / SOLUTION).read_text(encoding="utf-8"), status
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def _drive(self, folder: Path, req: GenRequest) -> str:
        from agent.events import SessionFinished
        from agent.session import Session

        agent = self.settings.agent.model_copy(update={"max_steps": self.max_steps, "learn": False})
        settings = self.settings.model_copy(update={"agent": agent})
        session = Session(folder, settings, self._chat_model(), policy="full-auto",
                          wait_for_approval=False)
        task = (f"Implement the function `{req.problem.entry_point}` in {SOLUTION} as its "
                f"docstring describes. Keep its signature; edit only {SOLUTION}.")
        status = "stop"
        async for event in session.run(task):
            if isinstance(event, SessionFinished):
                status = event.status
        return status
