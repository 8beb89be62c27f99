"""Session history: the project's past sessions; Enter resumes the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.history import HistoryError, SessionSummary, list_sessions

_STATUS_STYLE = {"success": "green", "failed": "red", "error": "red", "paused": "yellow",
                 "unfinished": "yellow", "rejected": "magenta", "stopped": "magenta"}


class HistoryScreen(ModalScreen[str | None]):
    """Dismisses with the id of the session to resume, or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, root: object) -> None:
        super().__init__()
        self.root = root
        self.sessions: list[SessionSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog"):
            yield Static("Sessions — Enter resumes, Escape closes", classes="dialog-title")
            yield OptionList(Option("loading…", disabled=True), id="history-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        try:
            sessions = list_sessions(self.root)  # type: ignore[arg-type]
            error = ""
        except HistoryError as exc:
            sessions, error = [], str(exc)
        self.app.call_from_thread(self._show, sessions, error)

    def _show(self, sessions: list[SessionSummary], error: str) -> None:
        self.sessions = sessions
        options = self.query_one(OptionList)
        options.clear_options()
        if error or not sessions:
            options.add_option(Option(error or "No sessions in this project yet.", disabled=True))
            return
        for s in sessions:
            label = Text.assemble((f"{s.updated}  ", "dim"), (f"{s.status:<10} ", _STATUS_STYLE.get(s.status, "")),
                                  (s.task.splitlines()[0][:70] if s.task else "(no task)"),
                                  (f"  {s.id}", "dim"))
            options.add_option(Option(label, id=s.id))
        options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
