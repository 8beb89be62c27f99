"""Ticking off the plan's steps as the task's events show them done."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TEST_WORDS = re.compile(r"\b(test|tests|testing|pytest|unittest|verify|check)\b", re.I)


@dataclass
class PlanProgress:
    """The plan's steps and which are done; the first open step is the current one."""

    steps: list[str] = field(default_factory=list)
    done: list[bool] = field(default_factory=list)

    def set_plan(self, steps: list[str]) -> None:
        self.steps = list(steps)
        self.done = [False] * len(self.steps)

    @property
    def current(self) -> int | None:
        """Index of the step being worked on, None when all are done or there is no plan."""
        return next((i for i, d in enumerate(self.done) if not d), None)

    def files_changed(self, paths: list[str]) -> None:
        """An edit set landed: steps that name one of its files are done."""
        names = {p for p in paths} | {p.rsplit("/", 1)[-1] for p in paths}
        for i, step in enumerate(self.steps):
            if not self.done[i] and any(name and name in step for name in names):
                self.done[i] = True

    def tests_passed(self) -> None:
        """The tests went green: steps about testing are done, and so is every step before."""
        last = -1
        for i, step in enumerate(self.steps):
            if _TEST_WORDS.search(step):
                last = i
        for i in range(last + 1):
            self.done[i] = True

    def finished(self, success: bool) -> None:
        """The task succeeded: every step is done."""
        if success:
            self.done = [True] * len(self.steps)
