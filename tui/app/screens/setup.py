"""First-run setup: pick a provider (base URL, key variable, connection test) or pull the
local default model with a progress bar. The choice is saved to the user config file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from runtime.llm import PROVIDERS, ModelSettings, parse_model_ref
from tui.app.model_setup import SetupError, check_connection, save_model_table

_HOSTED = [name for name in PROVIDERS if name not in ("replay",)]


class SetupScreen(Screen[bool]):
    """Dismisses with True when a model was saved, False when skipped."""

    BINDINGS = [Binding("escape", "skip", "Skip")]

    def __init__(self, current: ModelSettings, local_model: str = "smollm2") -> None:
        super().__init__()
        self.current = current
        self.local_model = local_model
        self._totals: list[int] = []

    def compose(self) -> ComposeResult:
        c = self.current
        with VerticalScroll(id="setup-body"):
            yield Static("Welcome to Engram — choose the model that will work on your code.",
                         classes="dialog-title")
            with Vertical(classes="setup-box"):
                yield Label("Hosted or self-hosted model: provider, model, base URL, key variable")
                yield Select([(f"{n} — {PROVIDERS[n].description}", n) for n in _HOSTED],
                             value=c.provider if c.provider in _HOSTED else "deepseek",
                             allow_blank=False, compact=True, id="setup-provider")
                yield Input(c.model, placeholder="model name, e.g. deepseek-chat", compact=True, id="setup-model")
                yield Input(c.base_url or "", placeholder="base URL (empty: the provider's default)",
                            compact=True, id="setup-base-url")
                yield Input(c.api_key_env or "", placeholder="env var that holds the key, e.g. DEEPSEEK_API_KEY",
                            compact=True, id="setup-key-env")
                with Horizontal(classes="button-row"):
                    yield Button("Test connection", id="setup-test", compact=True)
                    yield Button("Save", id="setup-save", variant="primary", compact=True)
            with Vertical(classes="setup-box"):
                yield Label(f"Or the local model ({self.local_model}, runs on this machine, no key)")
                yield ProgressBar(total=None, show_eta=False, id="setup-progress")
                with Horizontal(classes="button-row"):
                    yield Button(f"Pull and use {self.local_model}", id="setup-local", compact=True)
                    yield Button("Skip (Esc)", id="setup-skip", compact=True)
            yield Static("", id="setup-message")

    def on_mount(self) -> None:
        self.query_one("#setup-progress", ProgressBar).display = False

    def _settings(self) -> ModelSettings:
        provider = str(self.query_one("#setup-provider", Select).value)
        model = self.query_one("#setup-model", Input).value.strip()
        base = self.current.model_copy(update={"provider": provider})
        chosen = parse_model_ref(f"{provider}:{model}", base) if model else base
        return chosen.model_copy(update={
            "base_url": self.query_one("#setup-base-url", Input).value.strip() or None,
            "api_key_env": self.query_one("#setup-key-env", Input).value.strip() or None})

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#setup-message", Static)
        message.update(text)
        message.set_class(error, "error")

    @on(Button.Pressed, "#setup-test")
    def _test(self) -> None:
        try:
            chosen = self._settings()
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"testing {chosen.provider}:{chosen.model}…")
        self._run_test(chosen)

    @work(thread=True, exclusive=True, group="setup")
    def _run_test(self, chosen: ModelSettings) -> None:
        try:
            reply = check_connection(chosen)
            self.app.call_from_thread(self._say, f"✔ connected: the model replied “{reply}”")
        except SetupError as exc:
            self.app.call_from_thread(self._say, f"✘ {exc}", True)

    @on(Button.Pressed, "#setup-save")
    def _save(self) -> None:
        try:
            chosen = self._settings()
            path = save_model_table({"provider": chosen.provider, "model": chosen.model,
                                     "base_url": chosen.base_url, "api_key_env": chosen.api_key_env})
        except (ValueError, SetupError) as exc:
            self._say(str(exc), error=True)
            return
        self.notify(f"saved to {path}")
        self.dismiss(True)

    @on(Button.Pressed, "#setup-local")
    def _local(self) -> None:
        bar = self.query_one("#setup-progress", ProgressBar)
        bar.display = True
        self.query_one("#setup-local", Button).disabled = True
        self._say(f"pulling {self.local_model}…")
        self._pull()

    @work(thread=True, exclusive=True, group="setup")
    def _pull(self) -> None:
        from runtime.engine.errors import EngineError
        from runtime.engine.pull import pull

        started = time.monotonic()
        try:
            path = pull(self.local_model, progress=_Throttled(
                lambda done, total: self.app.call_from_thread(self._progress, done, total)))
        except EngineError as exc:
            self.app.call_from_thread(self._pull_failed, str(exc))
            return
        try:
            save_model_table({"provider": "local", "model": self.local_model, "base_url": None,
                              "api_key_env": None})
        except SetupError as exc:
            self.app.call_from_thread(self._pull_failed, str(exc))
            return
        seconds = time.monotonic() - started
        self.app.call_from_thread(self._pulled, path, seconds)

    def _progress(self, done: int, total: int | None) -> None:
        bar = self.query_one("#setup-progress", ProgressBar)
        bar.update(total=total, progress=done)  # total None: an indeterminate (pulsing) bar
        if total is not None and total not in self._totals:
            self._totals.append(total)
        # The puller reports the download, then the model file's extraction (a new total).
        verb = "extracting" if len(self._totals) > 1 else "pulling"
        self._say(f"{verb} {self.local_model}… {done / 1_048_576:.1f} MiB"
                  + (f" of {total / 1_048_576:.1f} MiB" if total else ""))

    def _pull_failed(self, message: str) -> None:
        self._totals = []
        self.query_one("#setup-local", Button).disabled = False
        self.query_one("#setup-progress", ProgressBar).display = False
        self._say(f"✘ {message}", error=True)

    def _pulled(self, path: Path, seconds: float) -> None:
        bar = self.query_one("#setup-progress", ProgressBar)
        bar.update(total=1, progress=1)
        self.notify(f"{self.local_model} ready ({path.name}, {seconds:.0f} s)")
        self.dismiss(True)

    @on(Button.Pressed, "#setup-skip")
    def action_skip(self) -> None:
        try:
            # Record that setup was seen: the default (fall back to the local model) stays.
            save_model_table({"fallback_to_local": True})
        except SetupError as exc:
            self._say(str(exc), error=True)
            return
        self.dismiss(False)


class _Throttled:
    """Passes progress on at most every ``interval`` seconds (and always the last of a step),
    so a fast download does not flood the screen with updates."""

    def __init__(self, report: Callable[[int, int | None], None], interval: float = 0.1) -> None:
        self.report = report
        self.interval = interval
        self.last = 0.0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval or done == total or total != self.total:
            self.last, self.total = now, total
            self.report(done, total)
