"""Building a session's dependencies from the settings: model, index, memory, undo, sandbox."""

from __future__ import annotations

import contextlib
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from agent.config import EngramSettings
from agent.context.compaction import TokenTally
from agent.graph.deps import LoopDeps
from agent.memory import MemoryStore, MemoryStoreError
from agent.tools.catalog import tool_definitions
from agent.tools.read_tools import ReadTools
from agent.tools.test_runs import TestRuns
from agent.undo import UndoStore
from indexer import Index, IndexerError, TokenCounter
from indexer.secrets import SecretFilter
from runtime.llm import (
    LLMError, ModelPrices, choose_default, make_chat_model, resolve_model,
)
from runtime.llm.resolve import ASSUMED_CONTEXT_WINDOW
from runtime.sandbox import Sandbox, SandboxError, TestRunner


class SessionError(Exception):
    """A session that cannot start or continue; the message says why and what to do."""


def _model(settings: EngramSettings,
           chat_model: BaseChatModel | None) -> tuple[BaseChatModel, str, int, ModelPrices | None]:
    """The chat model, its name, context window and prices."""
    if chat_model is not None:
        try:
            resolved = resolve_model(settings.model)
            window, prices = resolved.context_window, resolved.prices
        except LLMError:
            window, prices = settings.model.context_window or ASSUMED_CONTEXT_WINDOW, None
        name = str(getattr(chat_model, "model_name", "") or getattr(chat_model, "model", "")
                   or chat_model._llm_type)
        return chat_model, name, window, prices
    try:
        resolved = choose_default(settings.model)
        chat = make_chat_model(resolved)
    except LLMError as exc:
        raise SessionError(str(exc)) from None
    except Exception as exc:  # a backend that breaks while loading: one line, not a traceback
        raise SessionError(f"cannot load the model {settings.model.provider}:"
                           f"{settings.model.model}: {type(exc).__name__}: {exc}") from exc
    return chat, resolved.ref, resolved.context_window, resolved.prices


def open_deps(root: Path, settings: EngramSettings, chat_model: BaseChatModel | None,
              stack: contextlib.AsyncExitStack, session_id: str, *,
              policy_override: str | None = None) -> LoopDeps:
    """Open everything a run needs; ``stack`` closes it. Problems become ``SessionError``."""
    chat, name, window, prices = _model(settings, chat_model)
    try:
        index = Index.open(root, settings.index)
    except IndexerError as exc:
        raise SessionError(str(exc)) from None
    stack.callback(index.close)
    memory = None
    if settings.memory.enabled:
        try:
            memory = MemoryStore.open(root, settings.memory)
            stack.callback(memory.close)
        except MemoryStoreError:
            memory = None  # a broken memory must not stop the task; the index still works
    undo = UndoStore.open(root)
    if hasattr(undo, "close"):
        stack.callback(undo.close)
    sandbox = Sandbox.from_settings(settings.sandbox, root)
    try:
        sandbox.backend  # noqa: B018 - probe now: a missing sandbox is a setup problem
    except SandboxError as exc:
        raise SessionError(str(exc)) from None
    secrets = list(settings.index.secret_patterns)
    agent = settings.agent
    return LoopDeps(
        root=root, agent=agent, chat=chat, tools_chat=chat.bind_tools(tool_definitions()),
        model_name=name, window=window, prices=prices, index=index, memory=memory, undo=undo,
        sandbox=sandbox, tally=TokenTally(TokenCounter(settings.index.encoding)),
        secret_patterns=secrets, recall_tokens=settings.memory.recall_budget_tokens,
        reads=ReadTools(root, index, SecretFilter(secrets)),
        tests=TestRuns(TestRunner(sandbox, root), agent.test_excerpt_chars, agent.test_timeout_s),
        session_id=session_id, policy_override=policy_override)
