"""The Plan tab: the agent's plan as a live checklist."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.app.plan_progress import PlanProgress


class PlanPanel(VerticalScroll):
    """Steps with ☐ open, ▶ current, ☑ done."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("No plan yet: send a task.", id="plan-steps")

    def show(self, progress: PlanProgress) -> None:
        if not progress.steps:
            self.query_one("#plan-steps", Static).update("No plan yet: send a task.")
            return
        current = progress.current
        text = Text()
        for i, (step, done) in enumerate(zip(progress.steps, progress.done)):
            if done:
                text.append("☑ ", style="bold green")
                text.append(step, style="dim")
            elif i == current:
                text.append("▶ ", style="bold yellow")
                text.append(step, style="bold")
            else:
                text.append("☐ ")
                text.append(step)
            text.append("\n")
        self.query_one("#plan-steps", Static).update(text)

    @property
    def text(self) -> str:
        return str(self.query_one("#plan-steps", Static).render())
