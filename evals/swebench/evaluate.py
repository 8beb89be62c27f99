"""``--harness local``: evaluate one prediction in the sandbox, never raising.

Per instance: a fresh working copy at base_commit, its venv (layered on the cached one),
model_patch then test_patch applied, install commands, the FAIL_TO_PASS / PASS_TO_PASS tests
run without network, the log graded by the official rules.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from evals.swebench.dataset import Instance
from evals.swebench.environment import (
    EnvLock,
    EnvPlan,
    create_venv,
    discard,
    layer_venv,
    plan_environment,
    read_marker,
    venv_environment,
)
from evals.swebench.grading import grade, instance_report
from evals.swebench.workspace import (
    WorkspaceError,
    apply_patch,
    checkout,
    repository_source,
)
from runtime.sandbox import RunResult, Sandbox, SandboxError, SandboxSettings

Status = Literal["resolved", "unresolved", "empty_patch", "error"]


@dataclass(frozen=True)
class EvalContext:
    """Where things live and how long things may take (picklable, for Ray workers)."""

    repos_dir: Path | None
    cache_dir: Path
    """Cached venvs (``envs/``) and clones (``repos/``)."""
    logs_dir: Path
    scratch_dir: Path
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    test_timeout_s: float = 900.0
    install_timeout_s: float = 1800.0
    keep_workspaces: bool = False


@dataclass
class InstanceResult:
    """What happened to one instance."""

    instance_id: str
    repo: str
    status: Status
    reason: str = ""
    env_source: str = ""
    notes: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    log: str = ""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Failed(Exception):
    """Ends an instance's evaluation as an error with this reason."""


def evaluate_instance(inst: Instance, model_patch: str | None, ctx: EvalContext) -> InstanceResult:
    """Evaluate ``model_patch`` for ``inst``; every failure becomes an ``error`` result."""
    started = time.monotonic()
    result = InstanceResult(inst.instance_id, inst.repo, "error")
    if not (model_patch or "").strip():
        result.status = "empty_patch"
        result.reason = "the prediction has no patch"
        result.report = instance_report(inst, model_patch, False, False, {})
        return result
    folder = ctx.scratch_dir / inst.instance_id
    log_path = ctx.logs_dir / inst.instance_id / "test_output.txt"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result.log = str(log_path)
    try:
        _evaluate(inst, model_patch or "", ctx, folder, log_path, result)
    except _Failed as exc:
        result.status, result.reason = "error", str(exc)
    except WorkspaceError as exc:
        result.status, result.reason = "error", str(exc)
    except SandboxError as exc:
        result.status, result.reason = "error", f"sandbox failure: {exc}"
    except Exception as exc:  # noqa: BLE001 - one instance's failure never stops the run
        result.status = "error"
        result.reason = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:300]
    finally:
        if not ctx.keep_workspaces:
            shutil.rmtree(folder, ignore_errors=True)
    if not result.report:
        result.report = instance_report(inst, model_patch, False, False, {})
    result.duration_s = round(time.monotonic() - started, 2)
    return result


def _evaluate(inst: Instance, patch: str, ctx: EvalContext, folder: Path, log_path: Path,
              result: InstanceResult) -> None:
    from swebench.harness.constants import (
        APPLY_PATCH_FAIL,
        APPLY_PATCH_PASS,
        END_TEST_OUTPUT,
        START_TEST_OUTPUT,
        TESTS_TIMEOUT,
    )

    plan = plan_environment(inst)
    result.env_source, result.notes = plan.source, list(plan.notes)
    if folder.exists():
        shutil.rmtree(folder)
    workspace = checkout(inst, repository_source(inst, ctx.repos_dir, ctx.cache_dir / "repos"),
                         folder / "repo")
    header = f"instance {inst.instance_id} ({inst.repo} {inst.version}) environment: {plan.source}"
    log: list[str] = [header, *plan.notes]
    cached = _cached_env(plan, ctx, folder, workspace)
    venv = folder / "venv"
    create_venv(venv)
    layer_venv(venv, cached)
    # The cached venv is bound writable, not read-only: the sandbox mounts a private /tmp
    # over read-only extras, and caches often live under /tmp.
    sandbox = Sandbox(ctx.sandbox.model_copy(
        update={"writable": [*ctx.sandbox.writable, str(cached)]}), folder)
    env = venv_environment(venv)

    problem = apply_patch(workspace, patch, folder / "model.patch")
    if problem is not None:
        _write_log(log_path, log + [f"{APPLY_PATCH_FAIL} (model patch): {problem}"])
        raise _Failed(f"the model patch does not apply: {problem}")
    log.append(f"{APPLY_PATCH_PASS} (model patch)")
    for step in plan.install:
        run = sandbox.run(step, shell=True, cwd=workspace, env=env, network=True,
                          timeout=ctx.install_timeout_s)
        log += [f"$ {step}", run.stdout, run.stderr]
        if not run.ok:
            _write_log(log_path, log)
            raise _Failed(f"install step failed ({_why(run)}): {step[:120]}")
    problem = apply_patch(workspace, inst.test_patch, folder / "test.patch") \
        if inst.test_patch.strip() else None
    if problem is not None:
        _write_log(log_path, log + [f"{APPLY_PATCH_FAIL} (test patch): {problem}"])
        raise _Failed(f"the test patch does not apply on top of the model patch: {problem}")
    log.append(f"{APPLY_PATCH_PASS} (test patch)")

    script = "\n".join([*plan.eval_commands, plan.test_command_line()])
    run = sandbox.run(script, shell=True, cwd=workspace, env=env, network=False,
                      timeout=ctx.test_timeout_s)
    log += [f"$ {plan.test_command_line()}", START_TEST_OUTPUT, run.stdout, run.stderr,
            END_TEST_OUTPUT]
    if run.timed_out:
        _write_log(log_path, log + [TESTS_TIMEOUT])
        raise _Failed(f"the tests timed out after {ctx.test_timeout_s:g}s")
    if run.killed_by is not None:
        _write_log(log_path, log)
        raise _Failed(f"the test run was killed ({run.killed_by}): {run.reason}")
    text = "\n".join(log) + "\n"
    _write_log(log_path, log)
    completed, resolved, tests_status = grade(inst, text)
    result.report = instance_report(inst, patch, True, resolved, tests_status)
    if not completed:
        raise _Failed("the test log has no parseable test results")
    result.status = "resolved" if resolved else "unresolved"
    if not resolved:
        failing = [t for kind in ("FAIL_TO_PASS", "PASS_TO_PASS")
                   for t in tests_status.get(kind, {}).get("failure", [])]
        result.reason = f"{len(failing)} required test(s) fail: {', '.join(failing[:3])}"[:300]


def _cached_env(plan: EnvPlan, ctx: EvalContext, folder: Path, workspace: Path) -> Path:
    """The venv for ``plan.key``, built once (under a lock shared by all workers)."""
    target = ctx.cache_dir / "envs" / plan.key
    with EnvLock(target):
        if read_marker(target) is not None:
            return target / "venv"
        discard(target)
        create_venv(target / "venv")
        sandbox = Sandbox(ctx.sandbox, folder)
        env = venv_environment(target / "venv")
        for step in plan.setup:
            run = sandbox.run(step, shell=True, cwd=workspace, env=env, network=True,
                              writable=[target], timeout=ctx.install_timeout_s)
            if not run.ok:
                raise _Failed(f"environment setup failed ({_why(run)}): {step[:120]}")
        (target / "ready.json").write_text(json.dumps({"key": plan.key, "setup": plan.setup}))
        return target / "venv"


def _why(run: RunResult) -> str:
    if run.killed_by is not None:
        return f"killed: {run.killed_by}"
    tail = (run.stderr.strip() or run.stdout.strip()).splitlines()
    return f"exit {run.exit_code}: {tail[-1][:160]}" if tail else f"exit {run.exit_code}"


def _write_log(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
