"""One generation request as the scheduler and engine see it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import torch

from runtime.engine.detok import IncrementalDetokenizer, StopStringMatcher
from runtime.engine.sampling import SamplingParams


class RequestStatus(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(eq=False)
class Request:
    """Prompt, output so far, progress through the model, and how it samples."""

    request_id: str
    prompt_token_ids: list[int]
    params: SamplingParams
    detokenizer: IncrementalDetokenizer
    stop_matcher: StopStringMatcher
    generator: torch.Generator | None = None
    token_ids: list[int] = field(default_factory=list)
    """Prompt followed by output: what the KV cache must hold."""
    num_computed_tokens: int = 0
    status: RequestStatus = RequestStatus.WAITING
    finish_reason: str | None = None
    error: str | None = None
    num_cached_prompt_tokens: int = 0

    def __post_init__(self) -> None:
        if not self.token_ids:
            self.token_ids = list(self.prompt_token_ids)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def num_output_tokens(self) -> int:
        return len(self.token_ids) - len(self.prompt_token_ids)

    @property
    def output_token_ids(self) -> list[int]:
        return self.token_ids[len(self.prompt_token_ids) :]


@dataclass
class RequestOutput:
    """What one engine step produced for one request."""

    request_id: str
    text: str = ""
    """New text since the previous output."""
    token_ids: list[int] = field(default_factory=list)
    finished: bool = False
    finish_reason: str | None = None
    """``stop``, ``length``, ``abort`` or ``error``."""
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
