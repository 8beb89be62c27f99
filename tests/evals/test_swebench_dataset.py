"""Loading SWE-bench rows: official files, the real shared rows, and bad rows named precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.errors import EvalError
from evals.swebench.dataset import load_dataset, select

# ../shared/ lies beside the checkout, on developer machines and in CI alike.
SHARED = Path(__file__).resolve().parents[3] / "shared" / "swebench"
ROW = {"instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc", "problem_statement": "bug",
       "patch": "diff", "test_patch": "diff --git a/t.py b/t.py\n", "version": "1.0",
       "FAIL_TO_PASS": '["t.py::test_a"]', "PASS_TO_PASS": "[]"}


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_official_columns_are_parsed(tmp_path: Path) -> None:
    ds = load_dataset(str(_jsonl(tmp_path / "d.jsonl", [ROW])), "evaluation")
    inst = ds.instances[0]
    assert inst.FAIL_TO_PASS == ("t.py::test_a",) and inst.PASS_TO_PASS == ()
    assert inst.repo_dir_name == "o__r" and ds.problems == []


def test_json_and_parquet_files_load_like_jsonl(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "d.json").write_text(json.dumps([ROW]))
    pq.write_table(pa.Table.from_pylist([ROW]), tmp_path / "d.parquet")
    for name in ("d.json", "d.parquet"):
        assert load_dataset(str(tmp_path / name), "evaluation").instances[0].instance_id == "o__r-1"


def test_rows_can_carry_their_own_environment(tmp_path: Path) -> None:
    row = {**ROW, "install": "pip install -e .", "test_cmd": "python -m pytest -rA"}
    inst = load_dataset(str(_jsonl(tmp_path / "d.jsonl", [row])), "evaluation").instances[0]
    assert inst.install == ("pip install -e .",) and inst.test_cmd == "python -m pytest -rA"


def test_bad_rows_are_named_by_row_and_field_and_the_rest_still_load(tmp_path: Path) -> None:
    rows: list[object] = [
        ROW,
        {**ROW, "instance_id": "o__r-2", "FAIL_TO_PASS": "not json"},
        {k: v for k, v in {**ROW, "instance_id": "o__r-3"}.items() if k != "base_commit"},
        "{not json",
        {**ROW, "instance_id": "o__r-4", "repo": "no-slash"},
        {**ROW, "instance_id": "o__r-5", "install": [1, 2]},
        ROW,
    ]
    ds = load_dataset(str(_jsonl(tmp_path / "d.jsonl", rows)), "evaluation")
    assert [i.instance_id for i in ds.instances] == ["o__r-1"]
    messages = [p.message for p in ds.problems]
    assert "row 2 (o__r-2): field 'FAIL_TO_PASS' is not a JSON list of test ids" in messages[0]
    assert "row 3 (o__r-3): field 'base_commit' is missing" in messages[1]
    assert "line 4: not valid JSON" in messages[2]
    assert "row 5 (o__r-4): field 'repo' must be owner/name" in messages[3]
    assert "row 6 (o__r-5): field 'install' must be a list of shell commands" in messages[4]
    assert "'o__r-1' appears twice" in messages[5]


def test_missing_file_and_unreachable_hub_get_one_line_errors(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EvalError, match="dataset file not found"):
        load_dataset(str(tmp_path / "nope.jsonl"), "evaluation")
    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach the Hugging Face Hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(EvalError, match=r"cannot load princeton-nlp/SWE-bench_Verified\[test\] "
                                        r"from the Hugging Face hub .*--dataset"):
        load_dataset("princeton-nlp/SWE-bench_Verified", "evaluation")


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared SWE-bench rows are not on this machine")
def test_the_real_verified_rows_load() -> None:
    full = load_dataset(str(SHARED / "verified_mini50.jsonl"), "evaluation")
    assert len(full.instances) == 50 and not full.problems
    assert all(i.FAIL_TO_PASS for i in full.instances)
    partial = load_dataset(str(SHARED / "verified_500_partial.jsonl"), "inference")
    assert len(partial.instances) == 500
    # without test_patch and test lists the rows cannot be evaluated: one clear message
    with pytest.raises(EvalError, match=r"row 1 \(astropy__astropy-12907\): field 'test_patch' "
                                        r"is missing \(needed to evaluate\) \(and 499 more"):
        select(load_dataset(str(SHARED / "verified_500_partial.jsonl"), "evaluation"))
