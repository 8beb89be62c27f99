"""The app's actions beyond running a task: probing, indexing, undo, rejecting hunks,
memory, slash commands, history and setup. A mixin of ``EngramApp``; every slow step runs
in a worker thread and reports back on the UI thread."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work

from tui.app import services
from tui.app.commands import help_markdown
from tui.app.diffs import RevertError
from tui.app.mentions import project_files
from tui.app.screens.history import HistoryScreen
from tui.app.screens.setup import SetupScreen
from tui.app.screens.text_prompt import TextPromptScreen
from tui.app.widgets.changes_panel import ChangesPanel
from tui.app.widgets.memory_panel import MemoryPanel

if TYPE_CHECKING:
    from tui.app.app import EngramApp

    _Base = EngramApp
else:
    _Base = object


class Workflows(_Base):
    """Mixed into ``EngramApp``."""

    # -- start-up -----------------------------------------------------------------------------
    @work(thread=True, group="probe", exit_on_error=False)
    def probe_environment(self) -> None:
        found = services.probe(self.root, self.settings, self.chat_model)
        self.call_from_thread(self._probed, found)
        services.warm_up()
        self.call_from_thread(services.settle_memory)

    def _probed(self, found: services.Probe) -> None:
        self.status_bar.set(model=found.model, window=found.window, sandbox=found.sandbox)
        if not self.task_running:
            self.status_bar.set(activity="")
        for note in (f"ℹ {found.model_note}" if found.model_note else "",
                     f"⚠ sandbox: {found.sandbox_note}" if found.sandbox_note else ""):
            if note and note not in self._probe_notes_shown:
                self._probe_notes_shown.add(note)
                self.say(note, "yellow")
        if not found.is_git:
            self.say("⚠ this folder is not a git repository: Engram still works and keeps its own "
                     "undo snapshots, but there is no git history to fall back on", "yellow")

    @work(thread=True, group="files", exit_on_error=False)
    def load_project_files(self) -> None:
        files = project_files(self.root)
        self.call_from_thread(self._files_loaded, files)

    def _files_loaded(self, files: list[str]) -> None:
        self.project_files = files
        self.suggester.files = files
        self.files_panel.set_files(files)

    @work(thread=True, group="index", exit_on_error=False)
    def index_in_background(self) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.25 or done == total:
                last[0] = now
                self.call_from_thread(self._activity, f"indexing {done}/{total}")

        try:
            summary = services.refresh_index(self.root, self.settings, progress)
        except Exception as exc:  # a broken cache must not take the app down
            summary = f"index: {exc}"
        finally:
            self.index_ready.set()
        self.call_from_thread(self._activity, summary, 4.0)

    def _activity(self, text: str, clear_after: float | None = None) -> None:
        if self.task_running:
            return
        self.status_bar.set(activity=text)
        if clear_after:
            self.set_timer(clear_after, lambda: None if self.task_running else self.status_bar.set(activity=""))

    # -- undo and rejecting --------------------------------------------------------------------
    def action_undo(self) -> None:
        if self.task_running:
            self.say("undo waits until the task ends (Esc cancels it)", "yellow")
            return
        self._undo_worker()

    @work(thread=True, group="files-on-disk", exit_on_error=False)
    def _undo_worker(self) -> None:
        try:
            result = services.undo_last(self.root)
        except Exception as exc:  # UndoError and OS errors: say it inline
            self.call_from_thread(self.say, f"✘ undo failed: {exc}", "red")
            return
        self.call_from_thread(self._undone, result)

    def _undone(self, result: tuple[str, list[str]] | None) -> None:
        if result is None:
            self.say("nothing to undo", "yellow")
            return
        label, paths = result
        self.say(Text.assemble(("↶ undone: ", "bold magenta"), label,
                               (f"  ({', '.join(paths) or 'no files changed'})", "dim")))
        self.changes_panel.mark_all_undone(set(paths))
        self.files_panel.set_changed(self.changes_panel.changed_paths)

    def command_undo(self, arg: str) -> None:
        self.action_undo()

    # Handlers by name (a mixin's ``@on`` decorators are not collected by Textual).
    def on_changes_panel_reject_requested(self, event: ChangesPanel.RejectRequested) -> None:
        if self.task_running:
            self.say("rejecting waits until the task ends (Esc cancels it)", "yellow")
            return
        entry = self.changes_panel.files[event.index]
        self._reject_worker(event.index, entry.patch, event.hunk, list(entry.states))

    @work(thread=True, group="files-on-disk", exit_on_error=False)
    def _reject_worker(self, index: int, patch: Any, hunk: int | None, states: list[str]) -> None:
        try:
            rejected = services.reject(self.root, patch, hunk, states)
        except RevertError as exc:
            self.call_from_thread(self.say, f"✘ {exc}", "red")
            return
        self.call_from_thread(self._rejected, index, rejected, patch.path)

    def _rejected(self, index: int, hunks: list[int], path: str) -> None:
        for h in hunks:
            self.changes_panel.set_hunk_state(index, h, "rejected")
        self.files_panel.set_changed(self.changes_panel.changed_paths)
        what = "file" if len(hunks) != 1 else f"hunk {hunks[0] + 1}"
        self.say(f"✗ rejected {what} of {path} (/undo brings it back)", "magenta")

    # -- memory ---------------------------------------------------------------------------------
    @work(thread=True, group="memory", exclusive=True, exit_on_error=False)
    def recall_memory(self, task: str) -> None:
        try:
            recalled = services.recall_memory(self.root, self.settings, task)
        except Exception as exc:  # a broken memory must not stop the task view
            self.call_from_thread(self.say, f"⚠ memory: {exc}", "yellow")
            return
        self.call_from_thread(self.memory_panel.show, f"Recalled for this task ({len(recalled)})",
                              [r.entry for r in recalled], [tuple(r.matched) for r in recalled])

    def command_memory(self, arg: str) -> None:
        self.show_tab("memory")
        self._list_memory()

    @work(thread=True, group="memory", exclusive=True, exit_on_error=False)
    def _list_memory(self) -> None:
        try:
            entries = services.memory_entries(self.root, self.settings)
        except Exception as exc:  # shown inline
            self.call_from_thread(self.say, f"⚠ memory: {exc}", "yellow")
            return
        self.call_from_thread(self.memory_panel.show, f"Everything remembered here ({len(entries)})",
                              entries, None)

    def on_memory_panel_action_requested(self, event: MemoryPanel.ActionRequested) -> None:
        if event.action == "edit":
            def edited(text: str | None) -> None:
                if text is not None and text.strip() and text != event.text:
                    self._memory_worker("edit", event.entry_id, text.strip(), event.pinned)

            self.push_screen(TextPromptScreen(f"Edit memory {event.entry_id}", event.text), edited)
        else:
            self._memory_worker(event.action, event.entry_id, None, event.pinned)

    @work(thread=True, group="memory-write", exit_on_error=False)
    def _memory_worker(self, action: str, entry_id: int, text: str | None, pinned: bool) -> None:
        try:
            report = services.memory_action(self.root, self.settings, action, entry_id, text, pinned)
        except Exception as exc:  # MemoryInputError, EntryNotFoundError: one line
            self.call_from_thread(self.say, f"✘ memory: {exc}", "red")
            return
        self.call_from_thread(self.say, f"  {report}", "dim")
        self._list_memory()

    # -- slash commands ------------------------------------------------------------------------
    def command_diff(self, arg: str) -> None:
        self.show_tab("changes")
        files = self.changes_panel.files
        if not files:
            self.say("no changes in this conversation yet", "dim")
            return
        for entry in files:
            self.say(f"  {entry.state:<8} {entry.patch.action:<6} {entry.patch.path} "
                     f"+{entry.patch.added} -{entry.patch.removed}", "dim")

    def command_model(self, arg: str) -> None:
        if not arg:
            info = self.status_bar.info
            self.say(f"model: {info.model} (window {info.window:,} tokens); /model provider:model "
                     "switches, /setup configures", "dim")
            return
        from runtime.llm import parse_model_ref

        try:
            model = parse_model_ref(arg, self.settings.model)
        except ValueError as exc:
            self.say(f"✘ {exc}", "red")
            return
        self.settings = self.settings.model_copy(update={"model": model})
        self.chat_model = None
        self.say(f"model for the next task: {model.provider}:{model.model}", "cyan")
        self.probe_environment()

    def command_policy(self, arg: str) -> None:
        from agent.policy import POLICIES, PolicyError, check_policy

        if not arg:
            self.say(f"approval policy: {self.policy} (choices: {', '.join(POLICIES)})", "dim")
            return
        try:
            self.policy = check_policy(arg)
        except PolicyError as exc:
            self.say(f"✘ {exc}", "red")
            return
        self.status_bar.set(policy=self.policy)
        self.say(f"approval policy: {self.policy} (from the next task)", "cyan")

    def command_compact(self, arg: str) -> None:
        folded = self.chat.compact()
        self.say(f"compacted: {folded} earlier task(s) folded into a short digest" if folded
                 else "nothing to compact yet", "dim")

    def command_clear(self, arg: str) -> None:
        self.chat.clear()
        self.pinned = []
        self.conversation.clear()
        self.say("conversation cleared (changes on disk stay; /undo still works)", "dim")

    def command_pin(self, arg: str) -> None:
        for path in (word.lstrip("@").rstrip("/") for word in arg.split()):
            if path and path not in self.pinned:
                self.pinned.append(path)
        self.say(f"pinned for the next tasks: {', '.join(self.pinned)}" if self.pinned else
                 "nothing pinned; /pin PATH or @PATH in a task pins a file", "dim")

    def command_unpin(self, arg: str) -> None:
        drop = {word.lstrip("@") for word in arg.split()}
        self.pinned = [p for p in self.pinned if drop and p not in drop]
        self.say(f"still pinned: {', '.join(self.pinned)}" if self.pinned else "nothing pinned", "dim")

    def command_help(self, arg: str) -> None:
        self.conversation.add_markdown(help_markdown())

    def command_history(self, arg: str) -> None:
        self.action_history()

    def command_setup(self, arg: str) -> None:
        self.action_setup()

    # -- screens ---------------------------------------------------------------------------------
    def action_history(self) -> None:
        def chosen(session_id: str | None) -> None:
            if session_id:
                if self.task_running:
                    self.say("a task is running; wait for it or press Esc to cancel it", "yellow")
                    return
                self.say(Text.assemble(("› ", "bold cyan"), (f"resume {session_id}", "bold")))
                self.run_session(None, session_id)

        self.push_screen(HistoryScreen(self.root), chosen)

    def action_setup(self) -> None:
        def done(saved: bool | None) -> None:
            from agent.config import ConfigError, load_settings

            try:
                fresh = load_settings(self.root)
            except ConfigError as exc:
                self.say(f"✘ {exc}", "red")
                return
            self.settings = self.settings.model_copy(update={"model": fresh.model})
            self.chat_model = None if saved else self.chat_model
            self.probe_environment()

        self.push_screen(SetupScreen(self.settings.model, self.settings.model.local_model), done)
