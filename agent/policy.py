"""Approval policies, as in Codex CLI: what the agent may do without asking.

- ``suggest``: ask before every edit, command and memory write.
- ``auto-edit``: edits (and memory writes) apply; commands ask.
- ``full-auto``: everything runs without asking; commands still run in the sandbox.

Nothing is approved silently: the loop emits an ``ApprovalGiven(by="policy")`` event for every
automatic approval.
"""

from __future__ import annotations

from typing import Literal, get_args

ApprovalPolicy = Literal["suggest", "auto-edit", "full-auto"]
POLICIES: tuple[str, ...] = get_args(ApprovalPolicy)
ActionKind = Literal["edit", "command", "memory"]

_AUTO: dict[str, frozenset[str]] = {
    "suggest": frozenset(),
    "auto-edit": frozenset({"edit", "memory"}),
    "full-auto": frozenset({"edit", "command", "memory"}),
}


class PolicyError(ValueError):
    """An unknown policy name; the message lists the known ones."""


def check_policy(name: str) -> ApprovalPolicy:
    """``name`` as a policy, or ``PolicyError``."""
    cleaned = name.strip().lower()
    if cleaned not in POLICIES:
        raise PolicyError(f"unknown approval policy {name!r}; use one of: {', '.join(POLICIES)}")
    return cleaned  # type: ignore[return-value]


def needs_approval(policy: ApprovalPolicy, kind: ActionKind) -> bool:
    """Whether ``kind`` of action must wait for the user under ``policy``."""
    return kind not in _AUTO[policy]
