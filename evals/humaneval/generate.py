"""Where completions come from: the dataset's oracles, the local engine (batched), or any
LangChain chat model the runtime builds.

Every generator yields ``(request, generation)`` pairs as they finish, so the run records
each one at once and an interrupted run loses at most the answers still in flight.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from evals.humaneval.dataset import Problem
from evals.humaneval.extract import extract_completion
from evals.humaneval.prompting import (
    COMPLETION_STOPS,
    PromptStyle,
    chat_messages,
    completion_prompt,
)

OracleKind = Literal["canonical", "empty"]


@dataclass(frozen=True)
class GenRequest:
    """One sample to produce."""

    problem: Problem
    sample_id: int


@dataclass(frozen=True)
class Generation:
    """What the model answered and the completion extracted from it."""

    raw: str
    completion: str
    finish_reason: str
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class SamplingConfig:
    """How answers are sampled."""

    max_tokens: int = 768
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


class Generator(Protocol):
    """Produces samples; ``name`` identifies the model (or oracle) in reports."""

    name: str

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        ...


def sample_seed(base: int, task_id: str, sample_id: int) -> int:
    """A seed per sample, stable across resumed runs (so a redone sample is the same one)."""
    return (base * 1_000_003 + zlib.crc32(f"{task_id}#{sample_id}".encode())) % (2**31)


class OracleGenerator:
    """``canonical``: the dataset's own solutions (must pass all); ``empty``: no body at all
    (must pass none). Together they prove the harness."""

    def __init__(self, kind: OracleKind) -> None:
        self.kind = kind
        self.name = f"oracle:{kind}"

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        for req in requests:
            text = req.problem.canonical_solution if self.kind == "canonical" else ""
            yield req, Generation(raw=text, completion=text, finish_reason="oracle", seconds=0.0)


class EngineGenerator:
    """The in-process engine: every prompt queued at once, continuous batching decides what
    runs each step, answers come back as they finish."""

    def __init__(self, engine: Any, style: PromptStyle, sampling: SamplingConfig,
                 name: str | None = None) -> None:
        self.engine = engine
        self.style = style
        self.sampling = sampling
        self.name = name or f"local:{engine.name}"

    def _prompt_ids(self, problem: Problem) -> list[int]:
        if self.style == "chat":
            text = self.engine.chat_template.render(chat_messages(problem))
            return self.engine.tokenizer.encode(text, add_special_tokens=False)
        return self.engine.tokenizer.encode(completion_prompt(problem))

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        from runtime.engine.errors import EngineError
        from runtime.engine.sampling import SamplingParams

        pending: dict[str, tuple[GenRequest, list[str], float]] = {}
        for req in requests:
            s = self.sampling
            params = SamplingParams(
                max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p,
                seed=sample_seed(s.seed, req.problem.task_id, req.sample_id),
                stop=list(COMPLETION_STOPS) if self.style == "completion" else [])
            try:
                rid = self.engine.add_request(self._prompt_ids(req.problem), params)
            except EngineError as exc:  # a prompt too long for the context window, say
                yield req, Generation("", "", "error", 0.0, error=str(exc))
                continue
            pending[rid] = (req, [], time.monotonic())
        while pending and self.engine.has_unfinished():
            for out in self.engine.step():
                entry = pending.get(out.request_id)
                if entry is None:
                    continue
                entry[1].append(out.text)
                if out.finished:
                    del pending[out.request_id]
                    yield self._finish(entry, out.finish_reason or "stop", out.error or "")

    def _finish(self, entry: tuple[GenRequest, list[str], float], reason: str,
                error: str) -> tuple[GenRequest, Generation]:
        req, parts, started = entry
        raw = "".join(parts)
        completion = extract_completion(raw, req.problem, self.style) if not error else ""
        return req, Generation(raw, completion, reason, time.monotonic() - started, error)


class ChatModelGenerator:
    """Any LangChain chat model (hosted, a model server, replay); requests go out
    ``concurrency`` at a time."""

    def __init__(self, chat_model: Any, sampling: SamplingConfig, name: str,
                 concurrency: int = 4) -> None:
        self.chat_model = chat_model
        self.sampling = sampling
        self.name = name
        self.concurrency = max(1, concurrency)

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[tuple[GenRequest, Generation]]:
        from langchain_core.messages import HumanMessage

        for start in range(0, len(requests), self.concurrency):
            chunk = list(requests[start:start + self.concurrency])
            inputs = [[HumanMessage(content=m["content"]) for m in chat_messages(r.problem)]
                      for r in chunk]
            began = time.monotonic()
            answers = self.chat_model.batch(inputs, config={"max_concurrency": self.concurrency},
                                            return_exceptions=True)
            seconds = (time.monotonic() - began) / max(1, len(chunk))
            for req, answer in zip(chunk, answers):
                if isinstance(answer, BaseException):
                    message = f"{type(answer).__name__}: {answer}".splitlines()[0][:300]
                    yield req, Generation("", "", "error", seconds, error=message)
                    continue
                raw = _text(answer.content)
                yield req, Generation(raw, extract_completion(raw, req.problem, "chat"), "stop",
                                      seconds)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content or []]
    return "".join(parts)
