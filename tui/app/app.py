"""The Engram app: conversation and prompt on the left, a tabbed side panel, a status bar.

Everything slow runs in workers: the agent session (in its own thread and event loop, so
indexing or a local model never stalls the screen), indexing, undo, memory and file actions.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from agent.config import EngramSettings
from tui.app import services
from tui.app.adapter import EventAdapter
from tui.app.chat_context import ChatContext
from tui.app.commands import SLASH_COMMANDS, EngramCommands, run_slash
from tui.app.mentions import complete, mention_prefix, to_pin
from tui.app.screens.approval import ApprovalAnswer, ApprovalScreen
from tui.app.widgets.changes_panel import ChangesPanel
from tui.app.widgets.conversation import Conversation
from tui.app.widgets.files_panel import FilesPanel
from tui.app.widgets.memory_panel import MemoryPanel
from tui.app.widgets.plan_panel import PlanPanel
from tui.app.widgets.prompt import Prompt, PromptSuggester
from tui.app.widgets.status_bar import StatusBar
from tui.app.widgets.tests_panel import TestsPanel
from tui.app.workflows import Workflows

SessionFactory = Callable[[EngramSettings, str], Any]
"""``(settings, policy) -> session`` with ``run(task, pinned=...)``, ``resume(id)``,
``answer_approval(request_id, approved, rejected_hunks=...)``."""

DELTA_BATCH_S = 0.03
DELTA_BATCH_CHARS = 1_500
SETTLE_EVERY_LINES = 1_000

NARROW = 110
"""Below this many columns the side panel covers the conversation instead of sitting beside it."""


class _DeltaBatcher:
    """Streamed text reaches the screen in batches of at most ``DELTA_BATCH_S`` seconds: one
    screen update per batch instead of one per token keeps long answers smooth."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Any], None]) -> None:
        self.loop = loop
        self.deliver = deliver
        self.pieces: list[str] = []
        self.size = 0
        self.last: Any = None
        self.timer: asyncio.TimerHandle | None = None

    def add(self, event: Any) -> None:
        self.pieces.append(event.text)
        self.size += len(event.text)
        self.last = event
        if self.size >= DELTA_BATCH_CHARS:  # a fire-hose model: keep each screen update small
            self.flush()
        elif self.timer is None:
            self.timer = self.loop.call_later(DELTA_BATCH_S, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pieces:
            merged = self.last.model_copy(update={"text": "".join(self.pieces)})
            self.pieces, self.size = [], 0
            self.deliver(merged)


def one_line_error(exc: BaseException) -> str:
    """Our own errors speak for themselves; anything else also names its type."""
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    ours = type(exc).__module__.split(".")[0] in ("agent", "runtime", "indexer", "tui")
    return text if ours and text else f"{type(exc).__name__}: {text}".rstrip(": ")


class EngramApp(Workflows, App[None]):
    """``EngramApp(root, settings).run()`` inside a repository."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses may live anywhere
    TITLE = "Engram"
    COMMANDS = App.COMMANDS | {EngramCommands}
    BINDINGS = [
        Binding("escape", "cancel_task", "Cancel"),
        Binding("ctrl+z", "undo", "Undo", priority=True),
        Binding("ctrl+b", "toggle_panel", "Panel"),
        Binding("ctrl+t", "toggle_dark", "Theme"),
        Binding("ctrl+r", "history", "History"),
    ]

    def __init__(self, root: Path, settings: EngramSettings, *, chat_model: Any = None,
                 session_factory: SessionFactory | None = None, policy: str | None = None,
                 setup: bool = False, background_index: bool = True) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self.settings = settings
        self.chat_model = chat_model
        self.policy = policy or settings.approval_policy
        self.session_factory = session_factory
        self.want_setup = setup
        self.background_index = background_index
        self.chat = ChatContext()
        self.pinned: list[str] = []
        self.project_files: list[str] = []
        self.adapter = EventAdapter(self)
        self.session: Any = None
        self.task_running = False
        self.index_ready = threading.Event()
        self._task_loop: asyncio.AbstractEventLoop | None = None
        self._task_main: asyncio.Task[Any] | None = None
        self._laid_out = False
        if background_index:
            # The indexer's worker processes need multiprocessing's resource tracker, which
            # cannot start once Textual has replaced sys.stderr: start it now.
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        self._closing = False
        self._settled_lines = 0
        self._probe_notes_shown: set[str] = set()
        """Start-up notes already in the conversation: a re-probe (after /setup) repeats none."""
        self.suggester = PromptSuggester([c.name for c in SLASH_COMMANDS])

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield Static("", id="mention-hints")
                yield Prompt(placeholder="Ask Engram to change your code…  (/help, @file)",
                             suggester=self.suggester, id="prompt")
            with TabbedContent(id="side", initial="tab-plan"):
                with TabPane("Plan", id="tab-plan"):
                    yield PlanPanel(id="plan")
                with TabPane("Changes", id="tab-changes"):
                    yield ChangesPanel(id="changes")
                with TabPane("Tests", id="tab-tests"):
                    yield TestsPanel(id="tests")
                with TabPane("Memory", id="tab-memory"):
                    yield MemoryPanel(id="memory")
                with TabPane("Files", id="tab-files"):
                    yield FilesPanel(id="files")
        yield StatusBar(id="status")
        yield Footer()

    # Surface for the adapter
    conversation = property(lambda self: self.query_one("#conversation", Conversation))
    plan_panel = property(lambda self: self.query_one("#plan", PlanPanel))
    changes_panel = property(lambda self: self.query_one("#changes", ChangesPanel))
    tests_panel = property(lambda self: self.query_one("#tests", TestsPanel))
    memory_panel = property(lambda self: self.query_one("#memory", MemoryPanel))
    files_panel = property(lambda self: self.query_one("#files", FilesPanel))
    status_bar = property(lambda self: self.query_one("#status", StatusBar))

    def on_mount(self) -> None:
        self.status_bar.set(policy=self.policy, model="…", activity="starting")
        self.query_one("#mention-hints").display = False
        self.query_one("#prompt", Prompt).focus()
        self._layout_for(self.size.width)
        self.conversation.add_text(Text.assemble(("Engram", "bold cyan"), f" in {self.root.name}  ",
                                                 ("— type a task, /help for commands", "dim")))
        if not self.background_index:
            self.index_ready.set()
        # Background work starts after the first paint, so the prompt appears at once.
        self.call_after_refresh(self._start_background)
        if self.want_setup:
            self.action_setup()

    def _start_background(self) -> None:
        self.probe_environment()
        self.load_project_files()
        if self.background_index:
            self.index_in_background()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        """Side by side when wide; the panel hidden (Ctrl+B shows it) when narrow."""
        narrow = width < NARROW
        if narrow != self.has_class("-narrow") or not self._laid_out:
            self._laid_out = True
            self.set_class(narrow, "-narrow")
            self.set_class(not narrow, "-show-panel")

    def watch_theme(self) -> None:
        if self.is_mounted:
            self.conversation.rerender()

    # -- the prompt ---------------------------------------------------------------------------
    @on(Input.Changed, "#prompt")
    def _prompt_changed(self, event: Input.Changed) -> None:
        hints = self.query_one("#mention-hints", Static)
        prefix = mention_prefix(event.value)
        if prefix is None:
            hints.display = False
            return
        found = complete(prefix, self.project_files, limit=5)
        hints.update(Text("  ".join(found) or "no matching file", style="dim"))
        hints.display = True

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.query_one("#mention-hints").display = False
        if text.startswith("/"):
            if not run_slash(self, text):
                self.say(f"unknown command {text.split()[0]}; /help lists them", "yellow")
            return
        self.send_task(text)

    def send_task(self, text: str) -> None:
        """Start a task (refused while one runs)."""
        if self.task_running:
            self.say("a task is running; wait for it or press Esc to cancel it", "yellow")
            return
        for path in to_pin(text, self.project_files):
            if path not in self.pinned:
                self.pinned.append(path)
        self.conversation.add_text(Text.assemble(("› ", "bold cyan"), (text, "bold")))
        # The @mentions stay in the task: the model reads what the user meant by them, and
        # the agent shows it the pinned files themselves (ContextReady says which).
        self.run_session(self.chat.preface(text), None, text, list(self.pinned))

    def say(self, text: str | Text, style: str = "") -> None:
        self.conversation.add_text(text, style)

    # -- running the agent -------------------------------------------------------------------
    def _make_session(self) -> Any:
        if self.session_factory is not None:
            return self.session_factory(self.settings, self.policy)
        from agent.session import Session

        return Session(self.root, self.settings, self.chat_model, policy=self.policy)

    def run_session(self, task: str | None, resume_id: str | None, shown: str = "",
                    pinned: list[str] | None = None) -> None:
        self.task_running = True
        self.status_bar.set(activity="starting the agent…")
        self._session_worker(task, resume_id, shown, pinned or [])

    @work(thread=True, exclusive=True, group="task", exit_on_error=False)
    def _session_worker(self, task: str | None, resume_id: str | None, shown: str,
                        pinned: list[str]) -> None:
        if not self.index_ready.is_set():
            self.call_from_thread(self.status_bar.set, activity="waiting for indexing…")
            self.index_ready.wait()
        outcome: list[Any] = []
        try:
            session = self._make_session()
            self.session = session
            asyncio.run(self._consume(session, task, resume_id, pinned, outcome))
        except Exception as exc:  # model, network, settings: shown inline, the app goes on
            self._post(self._task_failed, one_line_error(exc))
        finally:
            self._task_loop, self._task_main = None, None
            self._post(self._task_done, shown or task or "", outcome[-1] if outcome else None)

    async def _consume(self, session: Any, task: str | None, resume_id: str | None,
                       pinned: list[str], outcome: list[Any]) -> None:
        self._task_loop = asyncio.get_running_loop()
        self._task_main = asyncio.current_task()
        stream = session.resume(resume_id) if resume_id else session.run(task, pinned=pinned)
        deltas = _DeltaBatcher(self._task_loop, lambda event: self._post(self._show_event, event))
        try:
            async for event in stream:
                if getattr(event, "type", "") == "message_delta":
                    deltas.add(event)
                    continue
                deltas.flush()
                if getattr(event, "type", "") == "finished":
                    outcome.append(event)
                self._post(self._show_event, event)
            deltas.flush()
        except asyncio.CancelledError:
            self._post(self._cancelled)
        finally:
            await stream.aclose()

    def _show_event(self, event: Any) -> None:
        self.adapter.handle(event)
        lines = self.conversation.line_count
        if lines - self._settled_lines >= SETTLE_EVERY_LINES:
            # A long answer's lines are long-lived: keep them out of full collections.
            self._settled_lines = lines
            gc.freeze()

    def _post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback`` on the UI thread and wait for it (no-op when the app is closing)."""
        if self._closing:
            return
        try:
            self.call_from_thread(callback, *args)
        except Exception:  # the app closed meanwhile; nothing is left to update
            if not self._closing:
                raise

    def on_unmount(self) -> None:
        # The task thread must end, or closing the app would wait for it forever (e.g. on an
        # approval nobody will answer now); its checkpoint stays resumable.
        self._closing = True
        loop, main = self._task_loop, self._task_main
        if loop is not None and main is not None:
            loop.call_soon_threadsafe(main.cancel)

    def _cancelled(self) -> None:
        self.conversation.end_stream()
        self.say("■ cancelled: the task stopped; its checkpoint can be resumed from /history",
                 "bold magenta")

    def _task_failed(self, message: str) -> None:
        self.conversation.end_stream()
        self.say(Text.assemble(("✘ error: ", "bold red"), (message, "red"),
                               (" — fix it and send the task again (/setup for the model)", "dim")))

    def _task_done(self, task: str, finished: Any) -> None:
        self.task_running = False
        self.conversation.end_stream()  # a cancelled or failed task's answer ends here too
        services.settle_memory()  # the agent's imports and this answer's lines are long-lived
        self.status_bar.set(activity="")
        if finished is not None and task:
            self.chat.add(task, f"{finished.status}: {finished.reason}", list(finished.files_changed))

    def task_finished(self, event: Any) -> None:
        self.files_panel.set_changed(self.changes_panel.changed_paths)

    def action_cancel_task(self) -> None:
        loop, main = self._task_loop, self._task_main
        if not self.task_running or loop is None or main is None:
            return
        loop.call_soon_threadsafe(main.cancel)
        self.status_bar.set(activity="cancelling…")

    # -- approvals ----------------------------------------------------------------------------
    def ask_approval(self, event: Any, patches: list[Any] | None = None) -> None:
        session = self.session

        def answered(answer: ApprovalAnswer | None) -> None:
            answer = answer or ApprovalAnswer(False)
            try:
                session.answer_approval(event.request_id, answer.approved,
                                        rejected_hunks=answer.rejected_hunks or None)
            except Exception as exc:  # the task ended meanwhile, a bad index: say so, go on
                self.say(f"approval not delivered: {one_line_error(exc)}", "yellow")

        sandbox = self.status_bar.info.sandbox
        self.push_screen(ApprovalScreen(event.kind, event.summary, event.detail, sandbox, patches),
                         answered)

    def context_pinned(self, paths: list[str]) -> None:
        """The agent pinned ``paths``: pins it had to leave out (its Notice says why) are
        dropped, so the next task does not warn about them again."""
        self.pinned = [p for p in self.pinned if p in paths]

    # -- panel and theme ------------------------------------------------------------------------
    def action_toggle_panel(self) -> None:
        self.toggle_class("-show-panel")
        if not self.has_class("-show-panel") or not self.has_class("-narrow"):
            self.query_one("#prompt", Prompt).focus()

    def show_tab(self, name: str) -> None:
        self.set_class(True, "-show-panel")
        self.query_one("#side", TabbedContent).active = f"tab-{name}"

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
