"""First-run model setup without Textual: is setup needed, save the choice, test a connection."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.config import CONFIG_FILE_NAME, user_config_dir
from runtime.atomic_write import write_text_atomic
from runtime.llm.errors import LLMError
from runtime.llm.resolve import choose_default, resolve_model
from runtime.llm.settings import ModelSettings


class SetupError(Exception):
    """The choice cannot be saved or tested; the message says why in one line."""


def user_config_path() -> Path:
    return user_config_dir() / CONFIG_FILE_NAME


def needs_setup(settings: ModelSettings, env: Mapping[str, str] | None = None) -> bool:
    """First run: no user config file, no ``ENGRAM_MODEL__*`` variable, and the configured
    hosted model has no key (so Engram would silently fall back to the local model)."""
    env = os.environ if env is None else env
    if user_config_path().is_file() or any(k.startswith("ENGRAM_MODEL__") for k in env):
        return False
    try:
        return choose_default(settings, env).fallback_from is not None
    except LLMError:
        return True


def save_model_table(values: Mapping[str, Any], path: Path | None = None) -> Path:
    """Merge ``values`` into the ``[model]`` table of the user config (``None`` removes a key).

    The file is written to a temporary name and renamed, so it is never left half-written.
    """
    path = path or user_config_path()
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SetupError(f"{path} cannot be read ({exc}); fix or remove it first") from None
    table = dict(data.get("model", {}))
    for key, value in values.items():
        if value is None or value == "":
            table.pop(key, None)
        else:
            table[key] = value
    data["model"] = table
    try:
        ModelSettings.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SetupError(f"model.{field}: {first['msg'].removeprefix('Value error, ')}") from None
    try:
        write_text_atomic(path, dumps_toml(data))
    except OSError as exc:
        raise SetupError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def dumps_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """TOML for settings: scalars, lists of scalars and nested tables."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        if isinstance(value, Mapping):
            name = f"{prefix}{_key(key)}"
            body = dumps_toml(value, prefix=f"{name}.")
            out += f"\n[{name}]\n{body}" if any(not isinstance(v, Mapping) for v in value.values()) \
                else body
    return out


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # JSON strings are TOML basic strings


def check_connection(settings: ModelSettings) -> str:
    """Send one tiny request to the model; its reply (shortened), or ``SetupError``."""
    from langchain_core.messages import HumanMessage

    from runtime.llm.factory import make_chat_model  # LangChain: loaded only when testing

    try:
        resolved = resolve_model(settings)
        if resolved.key_missing:
            raise SetupError(f"{resolved.api_key_env} is not set; export it in your shell first")
        quick = settings.model_copy(update={"max_retries": 0, "timeout": min(settings.timeout, 30)})
        chat = make_chat_model(resolve_model(quick))
        reply = chat.invoke([HumanMessage("Reply with the single word OK.")])
    except SetupError:
        raise
    except LLMError as exc:
        raise SetupError(str(exc)) from None
    except Exception as exc:  # a backend's own error: one line for the screen
        raise SetupError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    return " ".join(text.split())[:80] or "(an empty reply)"
