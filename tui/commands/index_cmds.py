"""``engram index|map|pack|search|symbols``: the repository indexer on the command line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from indexer.errors import IndexerError
from indexer.models import FORMATS
from runtime.atomic_write import write_text_atomic
from tui.commands.common import (
    console,
    err_console,
    fail,
    open_project,
    print_json,
    warn,
)

if TYPE_CHECKING:
    from indexer.index import Index

_PATH_OPTION = typer.Option(
    Path("."), "--path", "-C", help="Project folder (default: the current directory).",
    show_default=False,
)
_JSON_OPTION = typer.Option(False, "--json", help="Print JSON for machines.")
_MAX_LISTED = 100


@contextmanager
def _opened(path: Path) -> Iterator[Index]:
    """The project's index, refreshed; every indexer failure becomes a one-line error."""
    from indexer.index import Index  # the tokenizer and scipy load only when a command runs

    project = open_project(path)
    try:
        index = Index.open(project.root, project.settings.index)
    except IndexerError as exc:
        fail(str(exc))
    try:
        for w in index.warnings:
            warn(w)
        yield index
    except IndexerError as exc:
        fail(str(exc))
    finally:
        index.close()


def _refresh_quietly(index: Index) -> None:
    stats = index.refresh()
    for w in stats.warnings:
        warn(w)


def index_command(
    path: Path = typer.Argument(Path("."), help="Project folder (default: the current directory).",
                                show_default=False),
    json_out: bool = _JSON_OPTION,
) -> None:
    """Index the project (incrementally) and summarize what is in the index."""
    with _opened(path) as index:
        if json_out:
            stats = index.refresh()
        else:
            with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err_console, transient=True) as bar:
                task = bar.add_task("parse", total=None)
                stats = index.refresh(lambda done, total: bar.update(task, completed=done, total=total))
        for w in stats.warnings:
            warn(w)
        files = index.files()
        languages = Counter(f.language or "text" for f in files)
        symbols = sum(f.symbols for f in files)
        tokens = sum(f.tokens for f in files)
        if json_out:
            print_json({
                "root": str(index.root), "files": len(files), "languages": dict(languages.most_common()),
                "symbols": symbols, "tokens": tokens, "refresh": stats.to_dict(),
            })
            return
        if not files:
            warn(f"nothing to index in {index.root}")
        table = Table(title=Text(f"Index of {index.root}"), show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        table.add_row("files", f"{len(files):,} ({stats.added} added, {stats.changed} changed, "
                               f"{stats.removed} removed, {stats.reparsed} parsed)")
        table.add_row("languages", Text(", ".join(f"{lang} {n}" for lang, n in languages.most_common()) or "-"))
        table.add_row("symbols", f"{symbols:,}")
        table.add_row("tokens", f"{tokens:,} ({index.settings.encoding})")
        if stats.skipped:
            table.add_row("skipped", ", ".join(f"{why} {n}" for why, n in stats.skipped.items()))
        table.add_row("time", f"{stats.seconds:.2f} s")
        console.print(table)


def map_command(
    tokens: int = typer.Option(4096, "--tokens", "-t", min=1, help="Token budget of the map."),
    focus: list[str] | None = typer.Option(None, "--focus", "-f",
                                              help="File or folder to centre on (repeatable)."),
    query: str | None = typer.Option(None, "--query", "-q", help="Text whose names steer the ranking."),
    path: Path = _PATH_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Print a ranked map of the repository's definitions within a token budget."""
    with _opened(path) as index:
        _refresh_quietly(index)
        repo_map = index.repo_map(tokens, focus=focus or (), query=query)
        if json_out:
            print_json(repo_map.to_dict())
            return
        if not repo_map.text:
            warn("the map is empty (nothing indexed, or the budget is too small)")
            return
        console.out(repo_map.text, end="", highlight=False)
        err_console.print(f"[dim]{repo_map.tokens:,} tokens, {len(repo_map.files)} files, "
                          f"{repo_map.symbols} symbols[/]", highlight=False)


def pack_command(
    tokens: int = typer.Option(128_000, "--tokens", "-t", min=1, help="Token budget of the pack."),
    query: str | None = typer.Option(None, "--query", "-q", help="What the pack is for (steers relevance)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    fmt: str = typer.Option("markdown", "--format", help=f"One of: {', '.join(FORMATS)}."),
    path: Path = _PATH_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Pack the most relevant files (full text, outlines for the rest) into a token budget."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    with _opened(path) as index:
        _refresh_quietly(index)
        pack = index.pack(query, tokens)
        text = pack.render(fmt)  # type: ignore[arg-type]
        summary = {
            "files": len(pack.entries), "full": sum(e.mode == "full" for e in pack.entries),
            "skeleton": sum(e.mode == "skeleton" for e in pack.entries),
            "files_indexed": pack.files_indexed, "tokens": pack.total_tokens,
            "xml_tokens": pack.xml_tokens, "budget": pack.budget, "format": fmt,
        }
        if output is not None:
            _write_atomically(output, text)
            if json_out:
                print_json({**summary, "output": str(output),
                            "entries": [{"path": e.path, "mode": e.mode, "tokens": e.tokens}
                                        for e in pack.entries]})
            else:
                err_console.print(
                    f"wrote {summary['files']} files ({summary['full']} full, {summary['skeleton']} outlines) "
                    f"of {pack.files_indexed}, {pack.total_tokens:,} tokens, to {output}", highlight=False)
            return
        if json_out:
            print_json(pack.to_dict())
            return
        console.out(text, end="", highlight=False)


def _write_atomically(target: Path, text: str) -> None:
    target = target.expanduser()
    if target.is_dir():
        fail(f"{target} is a folder; give a file name")
    try:
        write_text_atomic(target, text, parents=False)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")


def search_command(
    query: str = typer.Argument(..., help="Words, identifiers or a symbol name."),
    k: int = typer.Option(10, "-k", "--limit", min=1, help="How many results."),
    path: Path = _PATH_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Search definitions and files (BM25 over identifier parts; exact names first)."""
    with _opened(path) as index:
        _refresh_quietly(index)
        hits = index.search(query, k)
        if json_out:
            print_json([h.to_dict() for h in hits])
            return
        if not hits:
            fail(f"no results for {query!r}")
        table = Table(show_header=True, header_style="bold")
        for col in ("score", "location", "symbol", "snippet"):
            table.add_column(col, overflow="fold")
        for h in hits:
            table.add_row(f"{h.score:.2f}", Text(f"{h.path}:{h.line}"), Text(h.symbol or ""), Text(h.snippet))
        console.print(table)


def symbols_command(
    name: str = typer.Argument(..., help="Symbol name (Class.method narrows definitions)."),
    path: Path = _PATH_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Show where a symbol is defined and used."""
    with _opened(path) as index:
        _refresh_quietly(index)
        info = index.symbols(name)
        if json_out:
            print_json(info.to_dict())
            return
        if not info.definitions and not info.references:
            fail(f"no definitions or references of {name!r}")
        console.print(f"[bold]{len(info.definitions)} definitions[/]", highlight=False)
        for d in info.definitions:
            owner = f" in {d.parent}" if d.parent else ""
            console.print(f"  {d.path}:{d.line}  {d.kind}{owner}  {d.signature}", highlight=False, markup=False)
        console.print(f"[bold]{len(info.references)} references[/]", highlight=False)
        for r in info.references[:_MAX_LISTED]:
            console.print(f"  {r.path}:{r.line}", highlight=False, markup=False)
        if len(info.references) > _MAX_LISTED:
            console.print(f"  … and {len(info.references) - _MAX_LISTED} more (--json lists all)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("index")(index_command)
    app.command("map")(map_command)
    app.command("pack")(pack_command)
    app.command("search")(search_command)
    app.command("symbols")(symbols_command)
