from __future__ import annotations

import subprocess
import sys

import numpy as np

from agent.memory.keys import entry_keys, query_keys
from agent.memory.normalize import normalize


def test_identifier_styles_normalize_to_the_same_tokens() -> None:
    forms = ["HTTPAdapter", "http_adapter", "http-adapters", "HttpAdapter", "HTTP.Adapter"]
    assert {tuple(normalize(f)) for f in forms} == {("http", "adapter")}


def test_nfkc_case_punctuation_numbers_and_stemming() -> None:
    # A ligature and full-width letters fold to plain ones.
    assert normalize("ﬁle Ｆｉｌｅ FILE!!") == ["file", "file", "file"]
    assert normalize("error 404, error 500") == ["error", "#3", "error", "#3"]
    assert normalize("tests tested testing test") == ["test"] * 4
    assert normalize("entries entry cookies cookie") == ["entri", "entri", "cooki", "cooki"]
    assert normalize("...;;; ---") == []


def test_keys_are_the_same_in_every_process() -> None:
    # Python's str hash is salted per process; the keys must not be.
    text = "Run the tests with pytest -q"
    here = entry_keys(text, 3).keys.tolist()
    code = ("from agent.memory.keys import entry_keys;"
            f"print(entry_keys({text!r}, 3).keys.tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=None).stdout
    assert eval(out) == here


def test_entry_keys_cover_orders_one_to_three() -> None:
    ek = entry_keys("alpha beta gamma", 3)
    assert ek.n_tokens == 3
    orders = (ek.keys >> np.uint64(62)).astype(int) + 1
    assert sorted(orders.tolist()) == [1, 1, 1, 2, 2, 3]
    q = query_keys("alpha beta gamma", 3, 100)
    assert set(q.ngrams) == {"alpha", "beta", "gamma", "alpha beta", "beta gamma",
                             "alpha beta gamma"}
    # Same form, same norm hash: "near" spelling differences are exact duplicates.
    same = entry_keys("http adapter retry", 3).norm_hash
    assert entry_keys("HTTPAdapter retries", 3).norm_hash == same
