"""SWE-bench instances from a local JSON/JSONL/parquet file or the Hugging Face hub.

A row that cannot be used does not stop the run: it becomes a ``RowProblem`` naming the row
and the field, which the run reports (as an error instance when the row has an id).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evals.errors import EvalError

Stage = Literal["inference", "evaluation"]
INFERENCE_FIELDS = ("instance_id", "repo", "base_commit", "problem_statement")
EVALUATION_FIELDS = ("test_patch", "FAIL_TO_PASS", "PASS_TO_PASS")
DEFAULT_HF_SPLIT = "test"


@dataclass(frozen=True)
class Instance:
    """One task in the official format, plus the optional environment a row may carry."""

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str = ""
    test_patch: str = ""
    FAIL_TO_PASS: tuple[str, ...] = ()
    PASS_TO_PASS: tuple[str, ...] = ()
    version: str = ""
    environment_setup_commit: str = ""
    hints_text: str = ""
    install: tuple[str, ...] | None = None
    """Shell commands run at the repository root in the instance's venv (newer task sets)."""
    test_cmd: str | None = None
    """The test runner; the FAIL_TO_PASS / PASS_TO_PASS ids are appended."""
    log_parser: str | None = None
    """Name of a ``swebench`` log parser for this row's test output."""
    row: int = 0
    """1-based row number in the source, for messages."""

    @property
    def repo_dir_name(self) -> str:
        """``owner__name``: how ``--repos-dir`` and the official harness name repositories."""
        return self.repo.replace("/", "__")


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot be used, and why (one line naming the row and the field)."""

    row: int
    instance_id: str | None
    message: str
    repo: str = ""


@dataclass
class Dataset:
    """Usable instances in source order and the rows that were not."""

    source: str
    instances: list[Instance] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def load_dataset(name: str, stage: Stage, split: str = DEFAULT_HF_SPLIT) -> Dataset:
    """Rows of ``name`` (a file, else a hub dataset such as ``princeton-nlp/SWE-bench_Verified``)
    checked for what ``stage`` needs."""
    path = Path(name).expanduser()
    if path.exists():
        rows = _read_file(path)
        source = str(path)
    elif path.suffix in (".json", ".jsonl", ".parquet") or "/" not in name or name.startswith((".", "/")):
        raise EvalError(f"dataset file not found: {name}")
    else:
        rows = _read_hub(name, split)
        source = f"{name}[{split}]"
    dataset = Dataset(source=source)
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        try:
            inst = parse_row(row, number, stage, source)
        except RowError as exc:
            iid = row.get("instance_id") if isinstance(row, dict) else None
            repo = row.get("repo") if isinstance(row, dict) else None
            dataset.problems.append(RowProblem(number, iid if isinstance(iid, str) and iid else None,
                                               str(exc), repo if isinstance(repo, str) else ""))
            continue
        if inst.instance_id in seen:
            dataset.problems.append(RowProblem(number, None, f"{source} row {number}: instance_id "
                                               f"{inst.instance_id!r} appears twice (row ignored)"))
            continue
        seen.add(inst.instance_id)
        dataset.instances.append(inst)
    if not dataset.instances and not dataset.problems:
        raise EvalError(f"{source} holds no instances")
    return dataset


def select(dataset: Dataset, instance_ids: Iterable[str] = (), limit: int | None = None) -> Dataset:
    """Only ``instance_ids`` (unknown ids are an error) and/or the first ``limit``."""
    wanted = list(dict.fromkeys(instance_ids))
    instances, problems = dataset.instances, dataset.problems
    if wanted:
        known = {i.instance_id for i in instances} | {p.instance_id for p in problems if p.instance_id}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise EvalError(f"instance {unknown[0]!r} is not in {dataset.source}")
        instances = [i for i in instances if i.instance_id in wanted]
        problems = [p for p in problems if p.instance_id in wanted]
    if limit is not None:  # the first N rows of the source, usable or not
        rows = sorted([i.row for i in instances] + [p.row for p in problems])[:limit]
        kept = set(rows)
        instances = [i for i in instances if i.row in kept]
        problems = [p for p in problems if p.row in kept]
    if not instances:
        first = problems[0].message if problems else f"{dataset.source} holds no instances"
        more = f" (and {len(problems) - 1} more unusable rows)" if len(problems) > 1 else ""
        raise EvalError(f"no usable instance: {first}{more}")
    return Dataset(dataset.source, instances, problems)


class RowError(Exception):
    """A row unusable for the stage; the message names the row and field."""


def parse_row(row: Any, number: int, stage: Stage, source: str = "dataset") -> Instance:
    """Check one row; ``RowError`` naming ``source row N (id): field ...`` when unusable."""
    where = f"{source} row {number}"
    if isinstance(row, _BadLine):
        raise RowError(row.message)
    if not isinstance(row, dict):
        raise RowError(f"{where}: not a JSON object")
    iid = row.get("instance_id")
    if isinstance(iid, str) and iid.strip():
        where += f" ({iid})"
    required = INFERENCE_FIELDS + (EVALUATION_FIELDS if stage == "evaluation" else ())
    for name in required:
        value = row.get(name)
        if value is None or (isinstance(value, str) and not value.strip()
                             and name not in ("test_patch",)):
            need = " (needed to evaluate)" if name in EVALUATION_FIELDS else ""
            raise RowError(f"{where}: field {name!r} is missing{need}")
    for name in ("instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch",
                 "version", "environment_setup_commit", "hints_text"):
        if row.get(name) is not None and not isinstance(row[name], (str, int, float)):
            raise RowError(f"{where}: field {name!r} must be a string")
    repo = str(row["repo"])
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise RowError(f"{where}: field 'repo' must be owner/name, not {repo!r}")
    return Instance(
        instance_id=str(row["instance_id"]), repo=repo, base_commit=str(row["base_commit"]),
        problem_statement=str(row["problem_statement"]), patch=str(row.get("patch") or ""),
        test_patch=str(row.get("test_patch") or ""),
        FAIL_TO_PASS=_test_list(row, "FAIL_TO_PASS", where),
        PASS_TO_PASS=_test_list(row, "PASS_TO_PASS", where),
        version=str(row.get("version") or ""),
        environment_setup_commit=str(row.get("environment_setup_commit") or ""),
        hints_text=str(row.get("hints_text") or ""),
        install=_install(row, where), test_cmd=_optional_str(row, "test_cmd", where),
        log_parser=_optional_str(row, "log_parser", where), row=number)


def _test_list(row: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = row.get(name)
    if value is None:
        return ()
    if isinstance(value, str):  # the official dataset stores these as JSON-encoded lists
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            raise RowError(f"{where}: field {name!r} is not a JSON list of test ids") from None
    if hasattr(value, "tolist"):  # a numpy array from parquet
        value = value.tolist()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RowError(f"{where}: field {name!r} must be a list of test ids")
    return tuple(value)


def _install(row: dict[str, Any], where: str) -> tuple[str, ...] | None:
    value = row.get("install")
    if value is None:
        return None
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise RowError(f"{where}: field 'install' must be a list of shell commands")
    return tuple(value)


def _optional_str(row: dict[str, Any], name: str, where: str) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowError(f"{where}: field {name!r} must be a string")
    return value


def _read_file(path: Path) -> list[Any]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read dataset {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors for a damaged parquet file
        raise EvalError(f"cannot read parquet dataset {path}: {exc}") from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path} is not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("instances", data.get("rows"))
        if not isinstance(data, list):
            raise EvalError(f"{path} must hold a JSON list of instance rows")
        return data
    rows: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            rows.append(_BadLine(f"{path} line {number}: not valid JSON ({exc.msg})"))
    return rows


class _BadLine(dict):  # type: ignore[type-arg]
    """Stands in for a line that is not JSON, so it is reported like any unusable row."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


def _read_hub(name: str, split: str) -> list[Any]:
    try:
        from datasets import load_dataset as hf_load
    except ImportError:
        raise EvalError(f"{name!r} is not a local file, and loading from the Hugging Face hub "
                        f"needs the datasets package (pip install datasets)") from None
    try:
        return list(hf_load(name, split=split))
    except Exception as exc:  # noqa: BLE001 - offline, unknown dataset, bad split
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise EvalError(f"cannot load {name}[{split}] from the Hugging Face hub ({first}); "
                        f"pass a local JSON/JSONL/parquet file with --dataset") from None
