"""Code extraction: fenced and bare answers, whole functions and bodies, prompt imports kept."""

from __future__ import annotations

import pytest

from evals.humaneval.dataset import Problem, load_problems
from evals.humaneval.execute import program_text
from evals.humaneval.extract import extract_completion, first_code_block


@pytest.fixture(scope="module")
def problem0() -> Problem:
    return load_problems(task_ids=["HumanEval/0"])[0]


SOLUTION = ("def has_close_elements(numbers, threshold):\n"
            "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)\n"
            "               for b in numbers[i + 1:])\n")


def _runs(problem: Problem, completion: str) -> bool:
    scope: dict[str, object] = {}
    exec(program_text(problem, completion), scope)  # noqa: S102 - known-good test code
    return True


def test_fenced_whole_function_replaces_the_stub_and_keeps_prompt_imports(problem0: Problem) -> None:
    answer = f"Here you go:\n```python\n{SOLUTION}```\nIt compares every pair."
    completion = extract_completion(answer, problem0, "chat")
    assert completion.strip().startswith("def has_close_elements")
    # the prompt (with `from typing import List`) comes first, the tests then pass
    assert _runs(problem0, completion)


def test_first_python_block_wins_and_other_languages_are_skipped() -> None:
    answer = "```bash\npip install x\n```\n```python\nA = 1\n```\n```python\nB = 2\n```"
    assert first_code_block(answer) == "A = 1\n"


def test_unclosed_fence_still_yields_its_code(problem0: Problem) -> None:
    completion = extract_completion("```python\n" + SOLUTION, problem0, "chat")
    assert _runs(problem0, completion)


def test_bare_answer_with_prose_around_the_code(problem0: Problem) -> None:
    answer = "Sure! The function is:\n\n" + SOLUTION + "\nThis works for all inputs."
    completion = extract_completion(answer, problem0, "chat")
    assert "Sure!" not in completion and "This works" not in completion
    assert _runs(problem0, completion)


def test_demo_code_after_the_function_is_dropped(problem0: Problem) -> None:
    answer = ("```python\n" + SOLUTION + "\nprint(has_close_elements([1.0], 0.5))\n"
              "assert False\nif __name__ == '__main__':\n    raise SystemExit(1)\n```")
    completion = extract_completion(answer, problem0, "chat")
    assert "print(" not in completion and "assert False" not in completion
    assert _runs(problem0, completion)


def test_a_body_only_answer_is_indented_under_the_signature(problem0: Problem) -> None:
    body = ("for i, a in enumerate(numbers):\n    for b in numbers[i + 1:]:\n"
            "        if abs(a - b) < threshold:\n            return True\nreturn False\n")
    completion = extract_completion(f"```python\n{body}```", problem0, "chat")
    assert completion.startswith("    for i")
    assert _runs(problem0, completion)


def test_completion_style_stops_at_the_next_top_level_statement(problem0: Problem) -> None:
    answer = ("    for i, a in enumerate(numbers):\n        for b in numbers[i + 1:]:\n"
              "            if abs(a - b) < threshold:\n                return True\n"
              "    return False\n\n\ndef unrelated():\n    pass\n\nprint('x')\n")
    completion = extract_completion(answer, problem0, "completion")
    assert "unrelated" not in completion and "print" not in completion
    assert _runs(problem0, completion)


def test_a_broken_whole_function_is_kept_so_the_run_reports_a_syntax_error(problem0: Problem) -> None:
    completion = extract_completion("```python\ndef has_close_elements(numbers, threshold:\n"
                                    "    return True\n```", problem0, "chat")
    assert completion.strip().startswith("def has_close_elements")
