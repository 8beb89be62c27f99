"""A syntax-highlighted diff, drawn line by line so large diffs stay fast."""

from __future__ import annotations

from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.diffs import FilePatch, Hunk

HUNK_MARKS = {"pending": " ", "accepted": "✓", "rejected": "✗"}


def _lexer(path: str) -> str:
    return Syntax.guess_lexer(path, code="") or "text"


def hunk_lines(path: str, hunk: Hunk, dark: bool, theme: str) -> list[Text]:
    """The hunk's lines with code highlighted and added/removed lines shaded."""
    code = "\n".join(line[1:] for line in hunk.lines)
    try:
        highlighted = Syntax(code, _lexer(path), theme=theme).highlight(code).split("\n")
    except Exception:  # an odd lexer must never break the view; plain text will do
        highlighted = [Text(line[1:]) for line in hunk.lines]
    add_bg = "on rgb(20,60,20)" if dark else "on rgb(215,245,215)"
    del_bg = "on rgb(75,20,20)" if dark else "on rgb(250,215,215)"
    out = []
    for line, text in zip(hunk.lines, highlighted):
        mark = line[:1]
        row = Text(mark + " ", style="bold green" if mark == "+" else "bold red" if mark == "-" else "dim")
        row.append_text(text)
        if mark == "+":
            row.stylize(add_bg)
        elif mark == "-":
            row.stylize(del_bg)
        out.append(row)
    return out


class DiffView(ScrollView, can_focus=True):
    """The hunks of one or more files; ``current`` marks the selected hunk."""

    DEFAULT_CSS = "DiffView { height: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._patches: list[FilePatch] = []
        self._states: list[list[str]] = []
        self._current: tuple[int, int] | None = None
        self._lines: list[Strip] = []
        self._hunk_rows: dict[tuple[int, int], int] = {}

    def show(self, patches: list[FilePatch], states: list[list[str]] | None = None,
             current: tuple[int, int] | None = None) -> None:
        """Show ``patches``; ``states[f][h]`` is pending/accepted/rejected per hunk."""
        self._patches = patches
        self._states = states or [["pending"] * len(p.hunks) for p in patches]
        self._current = current
        self._build()
        if current is not None and current in self._hunk_rows:
            self.scroll_to(y=max(0, self._hunk_rows[current] - 1), animate=False)

    def _build(self) -> None:
        dark = self.app.current_theme.dark if self.is_mounted else True
        theme = "monokai" if dark else "default"
        console = self.app.console
        rows: list[Text] = []
        self._hunk_rows = {}
        for f, patch in enumerate(self._patches):
            rows.append(Text.assemble((patch.path, "bold"), f" ({patch.action}) ",
                                      (f"+{patch.added}", "green"), " ", (f"-{patch.removed}", "red")))
            for h, hunk in enumerate(patch.hunks):
                state = self._states[f][h] if f < len(self._states) and h < len(self._states[f]) else "pending"
                selected = self._current == (f, h)
                self._hunk_rows[(f, h)] = len(rows)
                header = Text(f"{'▶' if selected else ' '}{HUNK_MARKS.get(state, ' ')} {hunk.header}",
                              style="bold reverse" if selected else "cyan")
                if state != "pending":
                    header.append(f"  {state}", style="bold green" if state == "accepted" else "bold red")
                rows.append(header)
                body = hunk_lines(patch.path, hunk, dark, theme)
                if state == "rejected":
                    for row in body:
                        row.stylize("strike dim")
                rows.extend(body)
            rows.append(Text(""))
        self._lines = [Strip(list(row.render(console, end=""))) for row in rows]
        widest = max((s.cell_length for s in self._lines), default=0)
        self.virtual_size = Size(widest, len(self._lines))
        self.refresh()

    def plain_text(self) -> str:
        return "\n".join(s.text.rstrip() for s in self._lines)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style) \
            .apply_style(self.rich_style)
