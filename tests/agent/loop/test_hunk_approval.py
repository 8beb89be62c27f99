"""Per-hunk approval: rejected hunks stay out, accepted ones apply, the model is told."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.edits.hunks import split_hunks
from agent.session import Session, SessionError
from runtime.llm import load_script
from tests.agent.loop.conftest import (
    RecordingReplay,
    collect,
    of_type,
    settings_for,
    write_script,
)

CALC = "".join(f"VALUE_{i} = {i}\n" for i in range(20))
CALC_NEW = CALC.replace("VALUE_1 = 1\n", "VALUE_1 = 100\n").replace("VALUE_18 = 18\n", "VALUE_18 = 1800\n")
FILES = {
    "calc.py": CALC,
    "other.py": "NAME = 'old'\n",
    "tests/__init__.py": "",
    "tests/test_ok.py": "import unittest\n\n\nclass OkTest(unittest.TestCase):\n"
                        "    def test_ok(self):\n        self.assertTrue(True)\n",
}




@pytest.fixture
def calc_repo(make_repo: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(FILES, name="calc")
    script = write_script(tmp_path / "edit.jsonl", [
        {"content": "1. Change the values."},
        {"content": "Change the values.", "tool_calls": [
            {"name": "write_file", "args": {"path": "calc.py", "content": CALC_NEW}},
            {"name": "edit_file", "args": {"path": "other.py", "search": "NAME = 'old'\n", "replace": "NAME = 'new'\n"}}]},
        {"content": "Done."},
    ])
    return repo, script


async def _run(repo: Path, script: Path, answer: Callable[[Session, Any], None]) -> tuple[list[Any], RecordingReplay]:
    model = RecordingReplay(steps=load_script(script), prompts=[])
    session = Session(repo, settings_for(script), chat_model=model, policy="suggest")

    def on_event(event: Any) -> None:
        if event.type == "approval_requested":
            answer(session, event)

    return await collect(session.run("change the values"), answer=on_event), model


async def test_rejected_hunk_is_not_applied_and_the_rest_is(calc_repo: tuple[Path, Path]) -> None:
    repo, script = calc_repo

    def answer(session: Session, request: Any) -> None:
        assert request.kind == "edit" and request.edit_set_id
        session.answer_approval(request.request_id, True, "not the second",
                                rejected_hunks={"calc.py": [1]})

    events, model = await _run(repo, script, answer)
    proposed = of_type(events, "edit_set")[0]
    calc_diff = next(f.diff for f in proposed.files if f.path == "calc.py")
    assert len(split_hunks(calc_diff)) == 2 and proposed.edit_set_id == of_type(events, "approval_requested")[0].edit_set_id
    text = (repo / "calc.py").read_text()
    assert "VALUE_1 = 100\n" in text and "VALUE_18 = 18\n" in text  # hunk 0 in, hunk 1 out
    assert (repo / "other.py").read_text() == "NAME = 'new'\n"
    given = of_type(events, "approval_given")[0]
    assert given.approved and given.rejected_hunks == {"calc.py": [1]}
    assert events[-1].status == "success"
    told = "\n".join(str(m.content) for m in model.prompts[-1])
    assert "rejected and NOT applied" in told and "+VALUE_18 = 1800" in told


async def test_a_file_with_every_hunk_rejected_is_untouched(calc_repo: tuple[Path, Path]) -> None:
    repo, script = calc_repo
    events, _ = await _run(repo, script, lambda s, r: s.answer_approval(
        r.request_id, True, rejected_hunks={"calc.py": [0, 1]}))
    assert (repo / "calc.py").read_text() == CALC and (repo / "other.py").read_text() == "NAME = 'new'\n"
    assert of_type(events, "edit_applied")[0].files == ["other.py"]


async def test_rejecting_every_hunk_is_a_rejection(calc_repo: tuple[Path, Path]) -> None:
    repo, script = calc_repo
    events, _ = await _run(repo, script, lambda s, r: s.answer_approval(
        r.request_id, True, rejected_hunks={"calc.py": [1, 0], "other.py": [0]}))
    assert (repo / "calc.py").read_text() == CALC and (repo / "other.py").read_text() == FILES["other.py"]
    given = of_type(events, "approval_given")[0]
    assert not given.approved and given.rejected_hunks == {"calc.py": [0, 1], "other.py": [0]}
    assert events[-1].status == "rejected" and not of_type(events, "edit_applied")


async def test_bad_paths_and_indices_raise_and_the_question_stays_open(calc_repo: tuple[Path, Path]) -> None:
    repo, script = calc_repo
    errors: list[str] = []

    def answer(session: Session, request: Any) -> None:
        for bad in ({"nope.py": [0]}, {"calc.py": [2]}, {"calc.py": [-1]}, {"calc.py": ["0"]}):
            with pytest.raises(SessionError) as info:
                session.answer_approval(request.request_id, True, rejected_hunks=bad)  # type: ignore[arg-type]
            errors.append(str(info.value))
        session.answer_approval(request.request_id, True)

    events, _ = await _run(repo, script, answer)
    assert "'nope.py' is not in edit set" in errors[0] and "other.py, calc.py" in errors[0]
    assert "calc.py: no hunk 2; it has 2" in errors[1] and "no hunk -1" in errors[2]
    assert events[-1].status == "success" and (repo / "calc.py").read_text() == CALC_NEW
