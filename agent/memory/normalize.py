"""Vocabulary normalization: many surface forms of a word become one lookup token.

As in the Engram paper's tokenizer compression, equivalent spellings must land on the same
key: ``HTTPAdapter``, ``http_adapter`` and ``http-adapters`` all become ``http adapter``.
Steps: Unicode NFKC, identifier splitting (camelCase, snake_case, kebab-case, paths),
case folding, punctuation stripped, numbers folded to their digit count, a light stemmer.
"""

from __future__ import annotations

import re
import unicodedata

# Lower/digit followed by upper ("camelCase", "x2Y"), or an acronym before a word ("HTTPServer").
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Word characters minus "_" (so snake_case splits); everything else is a separator.
_WORD = re.compile(r"[^\W_]+")
_LETTERS_DIGITS = re.compile(r"\d+|\D+")
_VOWEL = re.compile(r"[aeiouy]")
_NO_UNDOUBLE = frozenset("lsz")


def normalize(text: str) -> list[str]:
    """The normalized tokens of ``text`` in order (empty for text without words)."""
    return normalize_with_surface(text)[0]


def normalize_with_surface(text: str) -> tuple[list[str], list[str]]:
    """Normalized tokens and, for each, its unstemmed lower-case form (for explanations)."""
    text = unicodedata.normalize("NFKC", text)
    tokens: list[str] = []
    surface: list[str] = []
    for word in _WORD.findall(text):
        for part in _CAMEL.split(word):
            for piece in _LETTERS_DIGITS.findall(part):
                if piece[0].isdigit():
                    tokens.append(fold_number(piece))
                    surface.append(piece)
                else:
                    lowered = piece.casefold()
                    tokens.append(stem(lowered))
                    surface.append(lowered)
    return tokens, surface


def fold_number(digits: str) -> str:
    """``404`` and ``500`` become ``#3``: numbers match by magnitude, not value."""
    return f"#{min(len(digits.lstrip('0') or '0'), 9)}"


def stem(word: str) -> str:
    """A light suffix stripper: ``tests``/``tested``/``testing`` -> ``test``,
    ``caches``/``cache`` -> ``cach``, ``entries``/``entry`` -> ``entri``."""
    if len(word) <= 3 or not word.isascii():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "i"
    elif word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, min_stem in (("ing", 3), ("ed", 3), ("ly", 4)):
        if word.endswith(suffix) and len(word) - len(suffix) >= min_stem:
            base = word[: -len(suffix)]
            if _VOWEL.search(base):
                word = base if suffix == "ly" else _undouble(base)
            break
    if len(word) >= 5 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    elif len(word) >= 4 and word.endswith("y") and word[-2] not in "aeiouy":
        word = word[:-1] + "i"  # "entry" and "entries" meet at "entri"
    return word


def _undouble(base: str) -> str:
    # "running" -> "runn" -> "run"; "passed" -> "pass" keeps its "ss".
    if len(base) >= 3 and base[-1] == base[-2] and base[-1] not in _NO_UNDOUBLE \
            and not _VOWEL.match(base[-1]):
        return base[:-1]
    return base
