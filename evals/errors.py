"""The one error type the harnesses raise for bad input: its message is all a user needs."""

from __future__ import annotations


class EvalError(Exception):
    """Bad input or an unusable environment, said in one line (the CLI prints it as is)."""
