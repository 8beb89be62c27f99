"""A syntax-highlighted diff, drawn line by line so large diffs stay fast."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.diffs import FilePatch, Hunk

HUNK_MARKS = {"pending": " ", "accepted": "✓", "rejected": "✗", "on": "☑", "off": "☐"}
"""Per-hunk marks: decisions on applied hunks; ``on``/``off`` while reviewing a proposal."""
_LABELLED = {"accepted": "bold green", "rejected": "bold red", "off": "bold red"}
_LABELS = {"accepted": "accepted", "rejected": "rejected", "off": "left out"}


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
    """The hunks of one or more files; ``current`` marks the selected hunk (``(file, None)``:
    the file's header line)."""

    DEFAULT_CSS = "DiffView { height: 1fr; }"

    class Clicked(Message):
        """A hunk's lines (``hunk`` its index) or a file's header line (``hunk`` None) was clicked."""

        def __init__(self, view: DiffView, file: int, hunk: int | None) -> None:
            super().__init__()
            self.view = view
            self.file = file
            self.hunk = hunk

        @property
        def control(self) -> DiffView:
            return self.view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._patches: list[FilePatch] = []
        self._states: list[list[str]] = []
        self._current: tuple[int, int | None] | None = None
        self._lines: list[Strip] = []
        self._hunk_rows: dict[tuple[int, int | None], int] = {}
        self._row_owner: list[tuple[int, int | None]] = []
        self._bodies: dict[tuple[int, bool], list[Text]] = {}
        """Highlighted hunk lines by ``(id(hunk), dark)``: toggling a hunk re-highlights nothing."""

    def show(self, patches: list[FilePatch], states: list[list[str]] | None = None,
             current: tuple[int, int | None] | None = None) -> None:
        """Show ``patches``; ``states[f][h]`` is pending/accepted/rejected (or on/off) per hunk."""
        if patches is not self._patches:
            self._bodies = {}
        self._patches = patches
        self._states = states or [["pending"] * len(p.hunks) for p in patches]
        self._current = current
        self._build()
        if current is not None and current in self._hunk_rows:
            self.scroll_to_row(self._hunk_rows[current])

    def scroll_to_row(self, row: int) -> None:
        """Bring ``row`` (a hunk's header) into view with a line above it, if it is not."""
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if not self.is_mounted or height <= 0 or not top <= row - 1 < row + 2 <= top + height:
            self.scroll_to(y=max(0, row - 1), animate=False)

    def _body(self, patch: FilePatch, hunk: Hunk, dark: bool, theme: str) -> list[Text]:
        key = (id(hunk), dark)
        if key not in self._bodies:
            self._bodies[key] = hunk_lines(patch.path, hunk, dark, theme)
        return [row.copy() for row in self._bodies[key]]

    def _build(self) -> None:
        dark = self.app.current_theme.dark if self.is_mounted else True
        theme = "monokai" if dark else "default"
        console = self.app.console
        rows: list[Text] = []
        self._hunk_rows, self._row_owner = {}, []
        for f, patch in enumerate(self._patches):
            file_selected = self._current == (f, None)
            self._hunk_rows[(f, None)] = len(rows)
            self._row_owner.append((f, None))
            rows.append(Text.assemble(("▶" if file_selected else "", "bold reverse"),
                                      (patch.path, "bold reverse" if file_selected else "bold"),
                                      f" ({patch.action}) ",
                                      (f"+{patch.added}", "green"), " ", (f"-{patch.removed}", "red")))
            for h, hunk in enumerate(patch.hunks):
                state = self._states[f][h] if f < len(self._states) and h < len(self._states[f]) else "pending"
                selected = self._current == (f, h)
                self._hunk_rows[(f, h)] = len(rows)
                header = Text(f"{'▶' if selected else ' '}{HUNK_MARKS.get(state, ' ')} {hunk.header}",
                              style="bold reverse" if selected else "cyan")
                if state in _LABELLED:
                    header.append(f"  {_LABELS[state]}", style=_LABELLED[state])
                rows.append(header)
                body = self._body(patch, hunk, dark, theme)
                if state in ("rejected", "off"):
                    for row in body:
                        row.stylize("strike dim")
                rows.extend(body)
                self._row_owner.extend([(f, h)] * (len(body) + 1))
            rows.append(Text(""))
            self._row_owner.append((f, None))
        self._lines = [Strip(list(row.render(console, end=""))) for row in rows]
        widest = max((s.cell_length for s in self._lines), default=0)
        self.virtual_size = Size(widest, len(self._lines))
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < len(self._row_owner):
            f, h = self._row_owner[row]
            self.post_message(self.Clicked(self, f, h))

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
