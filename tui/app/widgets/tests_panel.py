"""The Tests tab: whether the tests are running, green or red, the failures and the output."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, OptionList, Static


class TestsPanel(Vertical):
    """A status line, the failing test ids, and every run's output (a virtualized log)."""

    __test__ = False  # not a pytest class, whatever its name

    def compose(self) -> ComposeResult:
        yield Static("Tests have not run yet.", id="tests-status")
        yield OptionList(id="tests-failures")
        yield Log(id="tests-output", highlight=False, max_lines=20_000)

    def running(self, what: str) -> None:
        self.query_one("#tests-status", Static).update(Text(f"⏳ running {what}…", style="bold yellow"))

    def finished(self, command: str, scope: str, ok: bool, passed: int, failed: list[str],
                 errored: list[str], headline: str, excerpt: str) -> None:
        status = Text("✔ green" if ok else "✘ red", style="bold green" if ok else "bold red")
        status.append(f"  {scope}: {headline or f'{passed} passed'}", style="")
        self.query_one("#tests-status", Static).update(status)
        failures = self.query_one("#tests-failures", OptionList)
        failures.clear_options()
        failures.add_options([Text(f"✘ {t}", style="red") for t in [*failed, *errored]])
        failures.display = bool(failed or errored)
        log = self.query_one("#tests-output", Log)
        log.write_line(f"$ {command}  ({'ok' if ok else 'failed'}; {passed} passed, "
                       f"{len(failed)} failed, {len(errored)} errored)")
        if excerpt:
            log.write_lines(excerpt.splitlines())
        log.write_line("")

    def not_run(self, reason: str) -> None:
        self.query_one("#tests-status", Static).update(Text(reason, style="dim"))

    @property
    def status_text(self) -> str:
        return str(self.query_one("#tests-status", Static).render())
