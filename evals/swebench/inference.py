"""Inference: the agent, headless under the full-auto policy and a budget, works on each
instance in a fresh working copy; its diff becomes the official prediction.

The trajectory (every event of the session, as JSON lines) is kept per instance.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.storage import JsonlWriter
from evals.swebench.dataset import Instance
from evals.swebench.workspace import (
    WorkspaceError,
    checkout,
    diff_against,
    repository_source,
)

ChatModelFactory = Callable[[], Any]
"""Builds the chat model for one instance (a replay script starts over each time)."""


@dataclass(frozen=True)
class InferenceContext:
    """What the agent runs with."""

    repos_dir: Path | None
    cache_dir: Path
    scratch_dir: Path
    trajectories_dir: Path
    settings: Any
    """``agent.config.EngramSettings`` (policy and budgets are set from the fields below)."""
    model_name: str
    chat_model: ChatModelFactory
    max_steps: int = 30
    max_cost_usd: float = 2.0
    max_tokens: int = 1_000_000
    keep_workspaces: bool = False


@dataclass
class InferenceResult:
    """One instance's prediction and how the session ended."""

    instance_id: str
    model_patch: str
    status: str
    """The agent's finish status, or ``error`` when the instance could not be run."""
    reason: str = ""
    steps: int = 0
    cost_usd: float = 0.0
    total_tokens: int = 0
    duration_s: float = 0.0
    trajectory: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def task_text(inst: Instance) -> str:
    """What the agent is asked (the issue as SWE-bench gives it)."""
    return ("Resolve this issue in the repository. Change the source code so the problem is "
            "fixed; do not weaken or delete existing tests.\n\n" + inst.problem_statement.strip())


def solve_instance(inst: Instance, ctx: InferenceContext) -> InferenceResult:
    """Run the agent on ``inst``; never raises (failures become ``status="error"``)."""
    started = time.monotonic()
    folder = ctx.scratch_dir / inst.instance_id
    trajectory = ctx.trajectories_dir / f"{inst.instance_id}.jsonl"
    result = InferenceResult(inst.instance_id, "", "error", trajectory=str(trajectory))
    try:
        source = repository_source(inst, ctx.repos_dir, ctx.cache_dir / "repos")
        workspace = checkout(inst, source, folder / "repo")
        trajectory.unlink(missing_ok=True)  # a redone instance starts a fresh trajectory
        finished = asyncio.run(_drive(inst, workspace, ctx, JsonlWriter(trajectory)))
        result.model_patch = diff_against(workspace, inst.base_commit)
        if finished is not None:
            result.status, result.reason = finished.status, finished.reason
            result.steps, result.cost_usd = finished.steps, finished.cost_usd
            result.total_tokens = finished.total_tokens
        else:
            result.status, result.reason = "error", "the session ended without a finish event"
    except WorkspaceError as exc:
        result.reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - one instance's failure never stops the run
        result.reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    finally:
        if not ctx.keep_workspaces:
            shutil.rmtree(folder, ignore_errors=True)
    result.duration_s = round(time.monotonic() - started, 2)
    return result


async def _drive(inst: Instance, workspace: Path, ctx: InferenceContext,
                 writer: JsonlWriter) -> Any:
    from agent.events import SessionFinished
    from agent.session import Session

    agent_settings = ctx.settings.agent.model_copy(update={
        "max_steps": ctx.max_steps, "max_cost_usd": ctx.max_cost_usd,
        "max_tokens": ctx.max_tokens, "learn": False})
    settings = ctx.settings.model_copy(update={"agent": agent_settings,
                                               "approval_policy": "full-auto"})
    session = Session(workspace, settings, ctx.chat_model(), policy="full-auto",
                      wait_for_approval=False)
    finished = None
    async for event in session.run(task_text(inst)):
        if getattr(event, "type", "") == "message_delta":
            continue  # the full message follows as one event; deltas only bloat the file
        writer.write(event.model_dump(mode="json"))
        if isinstance(event, SessionFinished):
            finished = event
    return finished
