"""Token counting: long texts are split where counts add up exactly."""

from __future__ import annotations

from indexer.tokens import TokenCounter, split_for_counting


def test_long_text_counts_and_splits_exactly() -> None:
    counter = TokenCounter()
    block = "def f(x):\n    return x + 1  # comment é\n\n\nclass C:\n    pass\n"
    text = block * 40_000  # ~2.4M characters, past bpe-openai's single-call limits
    pieces = split_for_counting(text, max_chars=100_000)
    assert len(pieces) > 1 and "".join(pieces) == text
    whole = counter.count(text)
    assert whole == sum(counter.count(p) for p in pieces)
    assert whole == len(counter.encode(text))


def test_truncate_never_exceeds() -> None:
    counter = TokenCounter()
    text = "héllo wörld " * 50
    cut = counter.truncate(text, 7)
    assert counter.count(cut) <= 7 and text.startswith(cut)
