"""What a loader returns: the model and everything needed to talk to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.engine.chat_template import ChatTemplate
from runtime.engine.config import ModelConfig
from runtime.engine.model import CausalLM
from runtime.engine.tokenizer import EngineTokenizer


@dataclass
class LoadedModel:
    """A ready model with its tokenizer, chat template and generation defaults."""

    name: str
    config: ModelConfig
    model: CausalLM
    tokenizer: EngineTokenizer
    chat_template: ChatTemplate
    generation_defaults: dict[str, Any] = field(default_factory=dict)
