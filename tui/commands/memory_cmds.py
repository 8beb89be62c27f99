"""``engram memory ...``: list, search, add, edit, forget, pin, export and import the
project's Engram memory (``.engram/memory.sqlite``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from agent.memory.errors import MemoryStoreError
from agent.memory.models import ENTRY_KINDS, ImportReport, MemoryEntry
from tui.commands.common import console, fail, open_project, print_json, warn

if TYPE_CHECKING:
    from agent.memory.store import MemoryStore

_PROJECT = typer.Option(Path("."), "-C", "--project",
                        help="Work on the project that holds PATH (default: the current folder).",
                        metavar="PATH")
_JSON = typer.Option(False, "--json", help="Print one JSON document for machines.")
_KINDS = ", ".join(ENTRY_KINDS)


@contextlib.contextmanager
def _store(project_path: Path, *, sync: bool = False) -> Iterator[MemoryStore]:
    """Open the project's memory; every memory error becomes one line and exit code 1."""
    project = open_project(project_path)
    try:
        from agent.memory.store import MemoryStore  # numpy loads only when a command runs

        store = MemoryStore.open(project.root, project.settings.memory)
    except MemoryStoreError as exc:
        fail(str(exc))
    for message in store.warnings:
        warn(message)
    try:
        if sync:
            for message in store.import_instruction_files().skipped:
                warn(message)
        yield store
    except MemoryStoreError as exc:
        fail(str(exc))
    finally:
        with contextlib.suppress(MemoryStoreError):
            store.close()


def _read_text(value: str | None, file: Path | None, what: str) -> str:
    """The text from an argument, ``-`` (stdin) or ``--file``; refuses non-UTF-8 bytes."""
    if file is not None and value is not None:
        fail(f"give the {what} as an argument or with --file, not both")
    if file is not None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
        source = str(file)
    elif value == "-":
        data, source = sys.stdin.buffer.read(), "standard input"
    elif value is None:
        fail(f"no {what} given")
    else:
        return value
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{source} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")


def _short(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _print_entries(entries: list[MemoryEntry]) -> None:
    if not entries:
        console.print("no memory entries")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("id", "kind", "pin", "uses", "text"):
        table.add_column(column, justify="right" if column in ("id", "uses") else "left")
    for e in entries:
        table.add_row(str(e.id), e.kind, "*" if e.pinned else "", str(e.use_count),
                      _short(e.text))
    console.print(table)


def _print_report(report: ImportReport, as_json: bool, extra: dict[str, object]) -> None:
    for message in report.skipped:
        warn(message)
    if as_json:
        print_json({**extra, **report.to_dict()})
    else:
        console.print(f"added {report.added}, merged {report.merged}, removed {report.removed}, "
                      f"skipped {len(report.skipped)}")


def register(app: typer.Typer) -> None:
    """Add the ``memory`` command group to ``app``."""
    group = typer.Typer(name="memory", no_args_is_help=True,
                        help="The project's Engram memory: what the agent learned here.")
    app.add_typer(group, name="memory")

    @group.command("list")
    def list_cmd(
        kind: Optional[str] = typer.Option(None, "--kind", help=f"Only this kind ({_KINDS})."),
        pinned: Optional[bool] = typer.Option(None, "--pinned/--unpinned",
                                              help="Only pinned (or unpinned) entries."),
        limit: Optional[int] = typer.Option(None, "--limit", min=0, help="At most N entries."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """List remembered entries (instruction files are imported first)."""
        with _store(project, sync=True) as store:
            entries = store.list(kind=kind, pinned=pinned, limit=limit)
        if as_json:
            print_json({"entries": [e.to_dict() for e in entries]})
        else:
            _print_entries(entries)

    @group.command("search")
    def search_cmd(
        context: str = typer.Argument(..., help="Context text ('-' reads standard input)."),
        budget: Optional[int] = typer.Option(None, "--budget", min=0,
                                             help="Token budget (default: settings)."),
        k: Optional[int] = typer.Option(None, "-k", min=1, help="At most K entries."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Show what the memory would recall for a context, and which n-grams matched."""
        text = _read_text(context, None, "context")
        with _store(project, sync=True) as store:
            results = store.recall(text, budget, k, record_use=False)
        if as_json:
            print_json({"results": [r.to_dict() for r in results]})
            return
        if not results:
            console.print("nothing recalled (no entry passed the gate)")
        for r in results:
            console.print(f"[bold]#{r.entry.id}[/] [cyan]{r.entry.kind}[/] "
                          f"score {r.score:.2f} gate {r.gate:.2f} ({r.tokens} tokens)",
                          highlight=False)
            console.print(f"  {_short(r.entry.text, 200)}", highlight=False, markup=False)
            console.print(f"  [dim]matched: {', '.join(r.matched[:12])}[/]", highlight=False)

    @group.command("add")
    def add_cmd(
        text: Optional[str] = typer.Argument(None, help="What to remember ('-' reads stdin)."),
        file: Optional[Path] = typer.Option(None, "--file", help="Read the text from a file."),
        kind: str = typer.Option("fact", "--kind", help=f"One of: {_KINDS}."),
        source: str = typer.Option("user", "--source",
                                   help="user, file:<path>, commit:<sha> or session:<id>."),
        confidence: float = typer.Option(1.0, "--confidence", help="0..1."),
        pin: bool = typer.Option(False, "--pin", help="Pin it (never evicted)."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Remember a fact, convention, command, failure, fix, file summary or preference."""
        body = _read_text(text, file, "text")
        with _store(project) as store:
            before = store.count()
            entry = store.remember(body, kind, source=source, confidence=confidence, pinned=pin)
            merged = store.count() == before
        if as_json:
            print_json({"entry": entry.to_dict(), "merged": merged})
        elif merged:
            console.print(f"merged into near-duplicate #{entry.id}: {_short(entry.text)}")
        else:
            console.print(f"remembered #{entry.id}")

    @group.command("edit")
    def edit_cmd(
        entry_id: int = typer.Argument(..., metavar="ID"),
        text: Optional[str] = typer.Argument(None, help="New text ('-' reads stdin)."),
        kind: Optional[str] = typer.Option(None, "--kind", help=f"New kind ({_KINDS})."),
        confidence: Optional[float] = typer.Option(None, "--confidence", help="New confidence."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Change an entry's text, kind or confidence."""
        body = None if text is None else _read_text(text, None, "text")
        if body is None and kind is None and confidence is None:
            fail("nothing to change: give new text, --kind or --confidence")
        with _store(project) as store:
            entry = store.edit(entry_id, body, kind=kind, confidence=confidence)
        if as_json:
            print_json({"entry": entry.to_dict()})
        else:
            console.print(f"edited #{entry.id}")

    @group.command("forget")
    def forget_cmd(
        entry_ids: list[int] = typer.Argument(..., metavar="ID...", help="Entries to delete."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Delete entries for good."""
        with _store(project) as store:
            gone = [store.forget(i) for i in entry_ids]
        if as_json:
            print_json({"forgotten": [e.to_dict() for e in gone]})
        else:
            console.print("forgot " + ", ".join(f"#{e.id}" for e in gone))

    @group.command("pin")
    def pin_cmd(
        entry_id: int = typer.Argument(..., metavar="ID"),
        unpin: bool = typer.Option(False, "--unpin", help="Unpin instead."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Pin an entry (never evicted, never decays), or unpin it."""
        with _store(project) as store:
            entry = store.pin(entry_id, not unpin)
        if as_json:
            print_json({"entry": entry.to_dict()})
        else:
            console.print(f"{'unpinned' if unpin else 'pinned'} #{entry.id}")

    @group.command("export")
    def export_cmd(
        path: Path = typer.Argument(..., help="JSONL file to write."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Write every entry to a JSONL file."""
        with _store(project) as store:
            count = store.export_jsonl(path)
        if as_json:
            print_json({"path": str(path), "count": count})
        else:
            console.print(f"exported {count} entries to {path}")

    @group.command("import")
    def import_cmd(
        path: Path = typer.Argument(..., help="JSONL file to read (as written by export)."),
        project: Path = _PROJECT, as_json: bool = _JSON,
    ) -> None:
        """Add the entries of a JSONL file, merging duplicates; bad lines are reported."""
        with _store(project) as store:
            report = store.import_jsonl(path)
        _print_report(report, as_json, {"path": str(path)})
