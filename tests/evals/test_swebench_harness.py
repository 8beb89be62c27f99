"""The local SWE-bench harness on the five fixture instances: gold resolves all, empty none,
and every kind of bad input ends as a reported error while the run goes on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.errors import EvalError
from evals.swebench.run import SweConfig, run_swebench
from runtime.sandbox import SandboxSettings

CHUNKER = "engram-fixtures__chunker-1"
ALL_IDS = {f"engram-fixtures__{n}-1" for n in ("slugkit", "romans", "semverlite", "inikit",
                                                "chunker")}


def _config(run_dir: Path, swe: tuple[Path, Path, Any], cache: Path, sandbox: SandboxSettings,
            **kw: Any) -> SweConfig:
    repos, dataset, _ = swe
    kw.setdefault("dataset", str(dataset))
    return SweConfig(run_dir=run_dir, repos_dir=repos, cache_dir=cache, workers=2,
                     test_timeout_s=120, sandbox=sandbox, **kw)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def gold_run(tmp_path_factory: pytest.TempPathFactory, swe_fixtures: Any, env_cache: Path,
             sandbox_settings: SandboxSettings) -> tuple[SweConfig, dict[str, Any]]:
    """The gold oracle over all five instances, run once for the tests that read it."""
    config = _config(tmp_path_factory.mktemp("gold") / "run", swe_fixtures, env_cache,
                     sandbox_settings, oracle="gold")
    return config, run_swebench(config)


@pytest.mark.slow
def test_gold_resolves_every_fixture_instance_and_empty_none(
        tmp_path: Path, gold_run: tuple[SweConfig, dict[str, Any]], swe_fixtures: Any,
        env_cache: Path, sandbox_settings: SandboxSettings) -> None:
    config, gold = gold_run
    assert set(gold["report"]["resolved_ids"]) == ALL_IDS, gold["instances"]
    assert gold["report"]["error_instances"] == 0
    # every environment path is exercised: fallback and row-provided
    assert {i["env_source"] for i in gold["instances"].values()} == {"fallback", "row"}
    # the official per-instance report and the test log are on disk
    one = json.loads((config.run_dir / "logs" / CHUNKER / "report.json").read_text())
    assert one[CHUNKER]["resolved"] and one[CHUNKER]["tests_status"]["FAIL_TO_PASS"]["success"]
    predictions = [json.loads(x) for x in (config.run_dir / "predictions.jsonl").read_text().splitlines()]
    assert {tuple(sorted(p)) for p in predictions} == {("instance_id", "model_name_or_path", "model_patch")}

    empty = run_swebench(_config(tmp_path / "empty", swe_fixtures, env_cache, sandbox_settings,
                                 oracle="empty"))
    assert empty["report"]["resolved_instances"] == 0
    assert set(empty["report"]["empty_patch_ids"]) == ALL_IDS


def test_wrong_missing_and_broken_predictions_each_get_their_status(
        tmp_path: Path, swe_fixtures: Any, env_cache: Path, sandbox_settings: SandboxSettings) -> None:
    repos, _, rows = swe_fixtures
    row = next(r for r in rows if r["instance_id"] == CHUNKER)
    noop = row["patch"].replace("range(0, len(items), size)", "range(0, len(items) - size + 1, size)  # same")
    rows_out = [
        row,  # a patch that changes nothing that matters: the tests run and fail
        {**row, "instance_id": "bad-patch"},  # a patch that does not apply
        {**row, "instance_id": "no-repo", "repo": "nobody/absent"},
        {**row, "instance_id": "no-commit", "base_commit": "0" * 40},
        {**row, "instance_id": "bad-row", "FAIL_TO_PASS": "{oops"},
    ]
    ds = _write(tmp_path / "d.jsonl", rows_out)
    preds = {CHUNKER: noop, "bad-patch": "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n",
             "no-repo": row["patch"], "no-commit": row["patch"]}
    pred_file = _write(tmp_path / "p.jsonl", [{"instance_id": k, "model_name_or_path": "m",
                                               "model_patch": v} for k, v in preds.items()])
    config = _config(tmp_path / "run", swe_fixtures, env_cache, sandbox_settings,
                     dataset=str(ds), predictions=pred_file)
    summary = run_swebench(config)
    got = {iid: (info["status"], info["reason"]) for iid, info in summary["instances"].items()}
    assert got[CHUNKER][0] == "unresolved" and "test_remainder" in got[CHUNKER][1]
    assert got["bad-patch"][0] == "error" and "does not apply" in got["bad-patch"][1]
    expected = (f"repository nobody/absent not found: expected {repos / 'nobody__absent'} "
                "(a git repository, bare or not)")
    assert got["no-repo"] == ("error", expected)
    assert got["no-commit"][0] == "error" and f"commit {'0' * 40}" in got["no-commit"][1]
    assert got["bad-row"][0] == "error" and "'FAIL_TO_PASS' is not a JSON list" in got["bad-row"][1]
    assert summary["report"]["error_instances"] == 4 and summary["report"]["unresolved_instances"] == 1


def test_a_test_run_that_times_out_is_an_error(tmp_path: Path, swe_fixtures: Any,
                                              env_cache: Path,
                                              sandbox_settings: SandboxSettings) -> None:
    _, _, rows = swe_fixtures
    row = {**next(r for r in rows if r["instance_id"] == CHUNKER),
           "test_cmd": "sleep 60; python -m pytest -rA"}
    config = _config(tmp_path / "run", swe_fixtures, env_cache, sandbox_settings, oracle="gold",
                     dataset=str(_write(tmp_path / "d.jsonl", [row])))
    summary = run_swebench(SweConfig(**{**config.__dict__, "test_timeout_s": 2.0}))
    assert summary["instances"][CHUNKER]["status"] == "error"
    assert summary["instances"][CHUNKER]["reason"] == "the tests timed out after 2s"


@pytest.mark.slow
def test_an_interrupted_evaluation_resumes_with_only_the_missing_instances(
        tmp_path: Path, gold_run: tuple[SweConfig, dict[str, Any]]) -> None:
    import shutil

    config, _ = gold_run
    run_dir = tmp_path / "run"
    shutil.copytree(config.run_dir, run_dir)
    evaluation = run_dir / "evaluation.jsonl"
    lines = evaluation.read_text().splitlines()
    lost = json.loads(lines[-1])["instance_id"]
    evaluation.write_text("\n".join(lines[:-1]) + "\n" + '{"instance_id": "torn')  # killed mid-write
    (run_dir / "summary.json").unlink()
    summary = run_swebench(SweConfig(**{**config.__dict__, "run_dir": run_dir}))
    assert summary["report"]["resolved_instances"] == 5
    records = [json.loads(x) for x in evaluation.read_text().splitlines() if x.endswith("}")]
    assert len(records) == 5 and records[-1]["instance_id"] == lost  # only that one ran again


def test_official_harness_without_docker_says_so(tmp_path: Path, swe_fixtures: Any,
                                                 env_cache: Path, sandbox_settings: SandboxSettings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.swebench import official

    monkeypatch.setattr(official, "docker_problem", lambda: "no Docker engine is reachable (test)")
    config = _config(tmp_path / "run", swe_fixtures, env_cache, sandbox_settings, oracle="gold",
                     harness="official")
    with pytest.raises(EvalError, match="--harness official needs Docker: no Docker engine is "
                                        "reachable .*use --harness local"):
        run_swebench(config)


def test_a_bad_predictions_file_is_rejected_with_the_line(tmp_path: Path, swe_fixtures: Any,
                                                          env_cache: Path,
                                                          sandbox_settings: SandboxSettings) -> None:
    pred_file = _write(tmp_path / "p.jsonl", [{"model_patch": "x"}])
    config = _config(tmp_path / "run", swe_fixtures, env_cache, sandbox_settings,
                     predictions=pred_file)
    with pytest.raises(EvalError, match="prediction 1: field 'instance_id' is missing"):
        run_swebench(config)


def test_a_sandbox_that_cannot_start_is_reported_as_the_reason(
        tmp_path: Path, swe_fixtures: Any, env_cache: Path,
        sandbox_settings: SandboxSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.swebench.dataset import load_dataset
    from evals.swebench.evaluate import EvalContext, evaluate_instance
    from runtime.sandbox.docker import DockerBackend

    monkeypatch.setattr(DockerBackend, "probe", lambda self: "docker is not installed")
    repos, dataset, _ = swe_fixtures
    inst = next(i for i in load_dataset(str(dataset), "evaluation").instances
                if i.instance_id == CHUNKER)
    ctx = EvalContext(repos_dir=repos, cache_dir=env_cache, logs_dir=tmp_path / "logs",
                      scratch_dir=tmp_path / "work",
                      sandbox=sandbox_settings.model_copy(update={"backend": "docker"}))
    result = evaluate_instance(inst, inst.patch, ctx)
    assert result.status == "error"
    assert result.reason == ("sandbox failure: the docker sandbox backend is unavailable: "
                             "docker is not installed")
    assert not (tmp_path / "work" / CHUNKER).exists()  # the working copy is cleaned up
