"""Settings of the agent loop (the ``[agent]`` table of config.toml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ContextMode = Literal["auto", "whole-repo", "navigator"]


class AgentSettings(BaseModel):
    """Budgets, loop detection, context and test behaviour of one agent task."""

    max_steps: int = Field(default=40, ge=1)
    """Model calls one task may make before it stops (``budget_exhausted``)."""

    max_repairs: int = Field(default=3, ge=0)
    """Times failing tests are handed back to the model for a fix before the task stops."""

    max_tokens: int = Field(default=2_000_000, ge=1)
    """Input plus output tokens one task may use, summed over all model calls."""

    max_cost_usd: float = Field(default=5.0, ge=0)
    """USD one task may spend (0 turns the cost budget off, e.g. for unpriced local models)."""

    loop_repeat_limit: int = Field(default=3, ge=2)
    """The same tool call with the same arguments this many times, with no change to the tree
    in between, stops the task as a loop."""

    no_progress_steps: int = Field(default=12, ge=2)
    """Model calls in a row that neither apply an edit nor make a failing test pass stop the
    task as making no progress."""

    context_mode: ContextMode = "auto"
    """``auto``: whole-repo when the model's window holds the indexer's full pack, else
    navigator; or force one of them."""

    whole_repo_share: float = Field(default=0.5, gt=0, le=0.9)
    """Share of the context window the full pack may use for whole-repo mode."""

    map_tokens: int = Field(default=2_000, ge=0)
    """Tokens of repository map in navigator mode."""

    files_tokens: int = Field(default=8_000, ge=0)
    """Tokens of the most relevant files shown in full in navigator mode."""

    compact_at: float = Field(default=0.7, gt=0.1, le=0.95)
    """Compact the conversation when a prompt would exceed this share of the window."""

    keep_recent_messages: int = Field(default=8, ge=2)
    """Newest conversation messages kept verbatim when older turns are summarized."""

    compaction: Literal["model", "digest"] = "model"
    """``model`` summarizes old turns with the model (a digest when that call fails);
    ``digest`` lists them without a model call."""

    tool_output_chars: int = Field(default=12_000, ge=200)
    """Longest tool result handed back to the model (longer ones are cut with a note)."""

    test_excerpt_chars: int = Field(default=3_000, ge=200)
    """Characters of parsed test failures handed back to the model."""

    test_timeout_s: float | None = Field(default=None, gt=0)
    """Wall-clock limit of one test run (``None``: the sandbox's default)."""

    command_timeout_s: float = Field(default=120.0, gt=0)
    """Wall-clock limit of one ``run_command``."""

    targeted_tests_first: bool = True
    """Run the tests that touch edited files first, then the whole suite."""

    learn: bool = True
    """After a task, remember what worked (test command, failures and fixes, conventions)."""
