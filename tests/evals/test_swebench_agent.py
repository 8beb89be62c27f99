"""End to end: the agent, driven by the replay model, solves a fixture instance; its diff is
the prediction, the trajectory is kept, and the local harness grades it resolved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.swebench.run import AgentSetup, SweConfig, run_swebench
from runtime.sandbox import SandboxSettings

SCRIPT = Path(__file__).parent / "fixtures" / "replay_chunker.jsonl"
CHUNKER = "engram-fixtures__chunker-1"


def _agent(settings_sandbox: SandboxSettings) -> AgentSetup:
    try:
        from agent.config import EngramSettings
        from agent.session import Session  # noqa: F401 - the agent must be importable
    except ImportError as exc:  # pragma: no cover - only while the agent is being built
        pytest.skip(f"the agent is not importable: {exc}")
    from runtime.llm import make_chat_model, parse_model_ref

    model = parse_model_ref(f"replay:{SCRIPT}")
    base = EngramSettings()
    # one test run per edit (not targeted-then-full) keeps the test quick; same outcome here
    settings = base.model_copy(update={"sandbox": settings_sandbox, "agent": base.agent.model_copy(
        update={"targeted_tests_first": False})})
    return AgentSetup("replay:chunker", lambda: make_chat_model(model), settings, max_steps=6)


@pytest.mark.slow
def test_the_agent_solves_an_instance_end_to_end(tmp_path: Path, swe_fixtures: Any,
                                                 env_cache: Path,
                                                 sandbox_settings: SandboxSettings) -> None:
    repos, dataset, _ = swe_fixtures
    config = SweConfig(run_dir=tmp_path / "run", dataset=str(dataset), instance_ids=(CHUNKER,),
                       repos_dir=repos, cache_dir=env_cache, sandbox=sandbox_settings,
                       test_timeout_s=120)
    summary = run_swebench(config, _agent(sandbox_settings))
    assert summary["instances"][CHUNKER]["status"] == "resolved", summary
    assert summary["inference"][CHUNKER]["status"] == "success"

    prediction = json.loads((config.run_dir / "predictions.jsonl").read_text())
    assert prediction["model_name_or_path"] == "replay:chunker"
    patch = prediction["model_patch"]
    assert "+    return [items[i:i + size] for i in range(0, len(items), size)]" in patch
    assert "__pycache__" not in patch and ".engram" not in patch  # artifacts stay out
    events = [json.loads(x)["type"] for x in
              (config.run_dir / "trajectories" / f"{CHUNKER}.jsonl").read_text().splitlines()]
    assert events[0] == "session_started" and events[-1] == "finished"
    assert "edit_applied" in events

    # resuming neither reruns the agent nor re-evaluates
    again = run_swebench(config, _agent(sandbox_settings))
    assert again["report"]["resolved_ids"] == [CHUNKER]
    assert len((config.run_dir / "inference.jsonl").read_text().splitlines()) == 1
