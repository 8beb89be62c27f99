"""The conversation: a virtualized log of rendered blocks with a streaming markdown tail.

Every finished block is rendered once into strips; only the lines on screen are drawn
(Textual's line API), so a 5,000-line answer scrolls as smoothly as a short one. The streaming
answer is cut into chunks (``MarkdownChunker``); only its unfinished tail is re-rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import RenderableType
from rich.markdown import Markdown
from rich.segment import Segment
from rich.syntax import Syntax
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.markdown_stream import Chunk, MarkdownChunker


_Line = tuple[tuple[Segment, ...], int]
"""A rendered line: its segments and its width in cells. ``Strip`` objects are made only for
the lines on screen: each carries caches, and millions of tracked objects make Python's
garbage collector pause the screen."""


@dataclass
class _Block:
    """One thing shown: its source (to re-render at a new width) and its rendered lines."""

    chunk: Chunk | None = None
    text: Text | None = None
    lines: list[_Line] = field(default_factory=list)


class Conversation(ScrollView, can_focus=True):
    """What the user asked and what the agent said and did, newest at the bottom."""

    DEFAULT_CSS = """
    Conversation { height: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._blocks: list[_Block] = []
        self._lines: list[_Line] = []
        self._tail: list[_Line] = []
        self._chunker: MarkdownChunker | None = None
        self._width = 0

    # -- what front ends call ---------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._lines) + len(self._tail)

    @property
    def streaming(self) -> bool:
        return self._chunker is not None

    def plain_text(self) -> str:
        """Everything shown, as plain text (tests and the tmux check read it)."""
        return "\n".join("".join(seg.text for seg in segments).rstrip()
                         for segments, _ in [*self._lines, *self._tail])

    def add_text(self, text: Text | str, style: str = "") -> None:
        """A finished line or paragraph of styled text.

        While an answer streams, it goes above the answer's unfinished tail and the answer
        goes on below it: ending the stream here would cut a line in two and parse the rest
        of the answer's markdown from the middle of a line (mangling code spans, say).
        """
        block = _Block(text=text if isinstance(text, Text) else Text(text, style=style))
        self._append(block)

    def add_markdown(self, markdown: str) -> None:
        """A whole markdown answer that did not stream (above a streaming tail, as ``add_text``)."""
        chunker = MarkdownChunker()
        for chunk in [*chunker.feed(markdown), *chunker.finish()]:
            self._append(_Block(chunk=chunk))

    def stream(self, delta: str) -> None:
        """Append a streamed piece of the agent's answer."""
        if self._chunker is None:
            self._chunker = MarkdownChunker()
        for chunk in self._chunker.feed(delta):
            self._append(_Block(chunk=chunk), update=False)
        self._tail = self._render_tail()
        self._update_size()

    def _render_tail(self) -> list[_Line]:
        """The unfinished rest: code highlighted, prose as plain text until its chunk closes
        (parsing markdown on every delta is what makes long streams stutter)."""
        tail = self._chunker.tail() if self._chunker else None
        if tail is None:
            return []
        if tail.kind == "markdown":
            return self._render(_Block(text=Text(tail.text)))
        return self._render(_Block(chunk=tail))

    def end_stream(self) -> None:
        """The streamed answer is complete."""
        if self._chunker is None:
            return
        chunker, self._chunker = self._chunker, None
        for chunk in chunker.finish():
            self._append(_Block(chunk=chunk), update=False)
        self._tail = []
        self._update_size()

    def clear(self) -> None:
        self._blocks, self._lines, self._tail, self._chunker = [], [], [], None
        self._update_size()

    # -- rendering --------------------------------------------------------------------------
    def _content_width(self) -> int:
        return max(20, self.scrollable_content_region.width or self.size.width or 80)

    def _renderable(self, block: _Block) -> RenderableType:
        if block.text is not None:
            return block.text
        chunk = block.chunk
        assert chunk is not None
        dark = self.app.current_theme.dark if self.is_mounted else True
        if chunk.kind == "code":
            return Syntax(chunk.text, chunk.language or "text", theme="monokai" if dark else "default",
                          word_wrap=True, background_color="default")
        return Markdown(chunk.text, code_theme="monokai" if dark else "default")

    def _render(self, block: _Block) -> list[_Line]:
        width = self._width or self._content_width()
        console = self.app.console
        options = console.options.update_width(width)
        rendered = console.render_lines(self._renderable(block), options, pad=False)
        lines: list[_Line] = []
        for line in rendered:
            segments = tuple(Segment.simplify(line))
            lines.append((segments, Segment.get_line_length(segments)))
        if block.chunk is not None and block.chunk.gap_after:
            lines.append(((), 0))
        return lines

    def _append(self, block: _Block, update: bool = True) -> None:
        self._blocks.append(block)
        if self._width:
            block.lines = self._render(block)
            self._lines.extend(block.lines)
        if update:
            self._update_size()

    def _rerender_all(self) -> None:
        self._lines = []
        for block in self._blocks:
            block.lines = self._render(block)
            self._lines.extend(block.lines)
        self._tail = self._render_tail()

    def _update_size(self) -> None:
        at_end = self.scroll_offset.y >= self.max_scroll_y - 1
        self.virtual_size = Size(self._width, self.line_count)
        self.refresh()
        if at_end:
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    def on_resize(self) -> None:
        width = self._content_width()
        if width != self._width:
            self._width = width
            self._rerender_all()
            self._update_size()

    def rerender(self) -> None:
        """Render every block again (after a theme change)."""
        if self._width:
            self._rerender_all()
            self._update_size()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index < len(self._lines):
            segments, cells = self._lines[index]
        elif index - len(self._lines) < len(self._tail):
            segments, cells = self._tail[index - len(self._lines)]
        else:
            return Strip.blank(width, style)
        return Strip(segments, cells).crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
