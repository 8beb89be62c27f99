"""The status bar: model, context gauge, tokens and cost, sandbox, approval policy."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static


@dataclass(frozen=True)
class StatusInfo:
    model: str = "…"
    window: int = 0
    context_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    sandbox: str = "…"
    policy: str = "suggest"
    activity: str = ""
    """What runs in the background (indexing, the task)."""


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n // 1000}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def gauge(used: int, window: int, cells: int = 8) -> Text:
    """``▰▰▱▱ 40%`` coloured by how full the context is."""
    share = min(1.0, used / window) if window else 0.0
    filled = round(share * cells)
    style = "green" if share < 0.5 else "yellow" if share < 0.8 else "bold red"
    text = Text("▰" * filled, style=style)
    text.append("▱" * (cells - filled), style="dim")
    text.append(f" {share:.0%}")
    return text


def short_model(name: str, limit: int = 28) -> str:
    """``provider:model`` with a long path cut to its file name."""
    provider, sep, model = name.partition(":")
    if "/" in model or "\\" in model:
        model = model.replace("\\", "/").rsplit("/", 1)[-1]
    text = f"{provider}{sep}{model}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatusBar(Static):
    """One line; fields drop their labels on narrow screens."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = StatusInfo()

    def set(self, **fields: object) -> None:
        self.info = replace(self.info, **fields)  # type: ignore[arg-type]
        self.update(self._text())

    def on_resize(self) -> None:
        self.update(self._text())

    def _text(self) -> Text:
        i = self.info
        wide = self.size.width >= 110
        sep = (" │ ", "dim")
        text = Text.assemble((short_model(i.model), "bold"), sep)
        text.append("ctx " if wide else "")
        text.append(f"{_short(i.context_tokens)}/{_short(i.window) if i.window else '?'} ")
        text.append_text(gauge(i.context_tokens, i.window, 8 if wide else 4))
        text.append(*sep)
        text.append(f"{_short(i.total_tokens)} tok ${i.cost_usd:.2f}")
        text.append(*sep)
        text.append(("sandbox " if wide else "") + i.sandbox)
        text.append(*sep)
        text.append(i.policy, style="bold magenta")
        if i.activity:
            text.append(*sep)
            text.append(i.activity, style="italic")
        return text
