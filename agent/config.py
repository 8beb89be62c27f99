"""Engram's settings: one pydantic-settings model with a table per component.

Sources, later wins: built-in defaults, ``~/.config/engram/config.toml``,
``<repo>/.engram/config.toml``, then ``ENGRAM_*`` environment variables
(``ENGRAM_MODEL__PROVIDER=openai`` sets ``[model] provider``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.mcp.settings import McpSettings
from agent.memory.config import MemorySettings
from agent.settings import AgentSettings
from indexer.config import IndexSettings
from indexer.workspace import STATE_DIR_NAME
from runtime.llm.settings import ModelSettings
from runtime.sandbox.config import SandboxSettings

CONFIG_FILE_NAME = "config.toml"


class ConfigError(Exception):
    """A settings file or variable that cannot be read; the message names which and why."""


def user_config_dir() -> Path:
    """``$XDG_CONFIG_HOME/engram`` (``~/.config/engram`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "engram"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/engram`` (``~/.cache/engram`` by default): models and downloads."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "engram"


class EngramSettings(BaseSettings):
    """Everything a user can configure. Each table belongs to one component."""

    model_config = SettingsConfigDict(
        env_prefix="ENGRAM_", env_nested_delimiter="__", extra="ignore"
    )

    model: ModelSettings = Field(default_factory=ModelSettings)
    """The model backend."""

    index: IndexSettings = Field(default_factory=IndexSettings)
    """The repository indexer."""

    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    """Isolated execution of tests and commands."""

    memory: MemorySettings = Field(default_factory=MemorySettings)
    """The per-project Engram memory."""

    agent: AgentSettings = Field(default_factory=AgentSettings)
    """The agent loop: budgets, loop detection, context mode, tests."""

    mcp: McpSettings = Field(default_factory=McpSettings)
    """MCP servers whose tools the agent may call (``[mcp.servers.NAME]``)."""

    approval_policy: Literal["suggest", "auto-edit", "full-auto"] = "suggest"
    """When the agent must ask: ``suggest`` before edits and commands, ``auto-edit`` before
    commands only, ``full-auto`` never (commands still run sandboxed). Every automatic approval
    is reported as an event."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Files arrive as init kwargs (see load_settings); the environment must beat them.
        return (env_settings, init_settings)


def config_files(project_root: Path | None) -> list[Path]:
    """The config files that apply, lowest precedence first."""
    files = [user_config_dir() / CONFIG_FILE_NAME]
    if project_root is not None:
        files.append(project_root / STATE_DIR_NAME / CONFIG_FILE_NAME)
    return files


def load_settings(project_root: Path | None = None) -> EngramSettings:
    """Read the user's and the project's config files and the environment."""
    merged: dict[str, Any] = {}
    for path in config_files(project_root):
        if path.is_file():
            _deep_merge(merged, _read_toml(path))
    try:
        return EngramSettings(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        sources = ", ".join(str(p) for p in config_files(project_root) if p.is_file())
        where = f" (from {sources} or ENGRAM_* variables)" if sources else " (from ENGRAM_* variables)"
        raise ConfigError(f"invalid settings{where}: {problems}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _deep_merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value
