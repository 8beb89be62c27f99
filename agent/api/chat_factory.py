"""The chat model of one task: the configured one, a replay script positioned at the
checkpoint (for resumed replay runs), and MCP tools around it when servers are connected."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from agent.config import EngramSettings
from agent.mcp.approvals import ApprovalBroker
from agent.mcp.chat import McpChatModel
from agent.mcp.client import McpHub
from runtime.llm import ReplayChatModel, choose_default, load_script, make_chat_model


def build_chat_model(settings: EngramSettings, *, done_steps: int = 0, hub: McpHub | None = None,
                     broker: ApprovalBroker | None = None) -> BaseChatModel | None:
    """The model to hand to ``Session`` (None: let the session build the configured one).

    A replay script is a recording of one whole task: a resumed task continues at the answer
    after the ``done_steps`` its checkpoint has already used (``LLMError`` for a bad script).
    """
    inner: BaseChatModel | None = None
    if settings.model.provider == "replay":
        path = Path(settings.model.model).expanduser()
        inner = ReplayChatModel(steps=load_script(path)[done_steps:], source=str(path))
    if hub is None or broker is None or not hub.tools():
        return inner
    if inner is None:
        resolved = choose_default(settings.model)
        inner = make_chat_model(resolved)
    name = str(getattr(inner, "model_name", "") or getattr(inner, "model", "") or inner._llm_type)
    return McpChatModel(inner=inner, hub=hub, broker=broker, model_name=name)
