"""The unbiased pass@k estimator and which k are reported."""

from __future__ import annotations

from math import comb

import pytest

from evals.humaneval.passk import pass_at_k


def test_matches_the_closed_form_of_chen_et_al() -> None:
    n, c, k = 20, 3, 10
    expected = 1 - comb(n - c, k) / comb(n, k)
    got = pass_at_k({"t": [True] * c + [False] * (n - c)}, ks=(k,))
    assert got["pass@10"] == pytest.approx(expected)


def test_means_over_tasks_and_leaves_out_k_larger_than_n() -> None:
    got = pass_at_k({"a": [True, False], "b": [False, False]})
    assert got == {"pass@1": pytest.approx(0.25)}


def test_empty_input_has_no_scores() -> None:
    assert pass_at_k({}) == {}
