"""The Tests tab: whether the tests are running, green or red, the failures and the output."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, OptionList, Static

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
MAX_LOG_LINES = 20_000


def clean_line(line: str) -> str:
    """A terminal line as the log can show it: no colour codes, only what a ``\\r`` left."""
    line = _ANSI.sub("", line)
    if "\r" in line:
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
    return line.expandtabs(4)


class TestsPanel(Vertical):
    """A status line, the failing test ids, and every run's output in a virtualized log: each
    run is a section that grows as its lines arrive and ends with the run's result."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._live: tuple[str, str] | None = None
        """``(command, scope)`` of the run whose output is arriving, if any."""
        self._live_lines = 0
        self._section_start = 0
        """Log line where the newest run's section starts (failures are looked up from here)."""
        self._failures: list[str] = []
        self._written = 0
        """Lines ever written (the log drops its oldest beyond ``MAX_LOG_LINES``)."""

    def compose(self) -> ComposeResult:
        yield Static("Tests have not run yet.", id="tests-status")
        yield OptionList(id="tests-failures")
        yield Log(id="tests-output", highlight=False, max_lines=MAX_LOG_LINES)

    def on_mount(self) -> None:
        self.query_one("#tests-failures", OptionList).display = False

    @property
    def output_log(self) -> Log:
        return self.query_one("#tests-output", Log)

    def _write(self, lines: list[str]) -> None:
        # One log line per line; Log.write_lines would drop empty ones and split at any "\n".
        rows = [row or " " for line in lines for row in (line.splitlines() or [""])]
        self._written += len(rows)
        self.output_log.write_lines(rows)

    def running(self, what: str) -> None:
        self._status(Text(f"⏳ running {what}…", style="bold yellow"))

    def output(self, command: str, scope: str, lines: Sequence[str]) -> None:
        """Lines a running test command printed: appended to its section (opened if new)."""
        if self._live != (command, scope):
            self._open_section(command, scope)
        self._live_lines += len(lines)
        self._write([clean_line(line) for line in lines])
        self._status(Text.assemble((f"⏳ {scope} tests running", "bold yellow"),
                                   f"  {self._live_lines:,} lines of output"))

    def finished(self, command: str, scope: str, ok: bool, passed: int, failed: list[str],
                 errored: list[str], headline: str, excerpt: str) -> None:
        """The run's result: the status, its failures, and the end of its section."""
        status = Text("✔ green" if ok else "✘ red", style="bold green" if ok else "bold red")
        status.append(f"  {scope}: {headline or f'{passed} passed'}", style="")
        self._status(status)
        self._failures = [*failed, *errored]
        failures = self.query_one("#tests-failures", OptionList)
        failures.clear_options()
        failures.add_options([Text(f"✘ {t}", style="red") for t in self._failures])
        failures.display = bool(self._failures)
        streamed = self._live == (command, scope)
        if not streamed:
            self._open_section(command, scope)
            if excerpt:  # no live output came: the failures as the model reads them
                self._write([clean_line(line) for line in excerpt.splitlines()])
        result = "ok" if ok else "failed"
        self._write([f"── {result}: {passed} passed, {len(failed)} failed, {len(errored)} errored ──", ""])
        self._live = None

    def stopped(self) -> None:
        """The task ended while a run's output was arriving (cancelled, or an error)."""
        if self._live is not None:
            self._write(["── stopped before the run finished ──", ""])
            self._live = None

    def not_run(self, reason: str) -> None:
        self._status(Text(reason, style="dim"))

    def _open_section(self, command: str, scope: str) -> None:
        self.stopped()
        self._section_start = self._written
        self._live, self._live_lines = (command, scope), 0
        self._write([f"$ {command}  ({scope})"])

    def _status(self, text: Text) -> None:
        self.query_one("#tests-status", Static).update(text)

    @on(OptionList.OptionSelected, "#tests-failures")
    def _show_failure(self, event: OptionList.OptionSelected) -> None:
        """Scroll the log to where the newest run first names the selected test."""
        test_id = self._failures[event.option_index]
        names = {test_id, test_id.rsplit("::", 1)[-1], test_id.rsplit(".", 1)[-1]}
        log = self.output_log
        dropped = self._written - log.line_count
        for y in range(max(0, self._section_start - dropped), log.line_count):
            if any(name in log.lines[y] for name in names):
                log.scroll_to(y=y, animate=False)
                break

    @property
    def status_text(self) -> str:
        return str(self.query_one("#tests-status", Static).render())

    @property
    def output_text(self) -> str:
        return "\n".join(line.rstrip() for line in self.output_log.lines)
