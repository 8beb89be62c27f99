"""``engram undo``: put the project's files back as they were before the agent's last change."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from agent.undo import PathChange, RestoreResult, UndoError, UndoPoint, UndoStore
from tui.commands.common import console, fail, open_project, print_json

_POINT = typer.Argument(
    None, help="Restore this undo point (an id from --list) instead of the newest.")
_LIST = typer.Option(False, "--list", help="List the undo points.")
_JSON = typer.Option(False, "--json", help="Print one JSON document for machines.")
_PROJECT = typer.Option(Path("."), "-C", "--project", metavar="PATH",
                        help="Work on the project that holds PATH (default: the current folder).")
_MARKS = {"added": "A", "deleted": "D", "modified": "M", "mode": "m"}
_WORDS = {"added": "re-created", "deleted": "removed", "modified": "", "mode": "mode restored"}


def _when(point: UndoPoint) -> str:
    return point.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _print_points(points: list[UndoPoint]) -> None:
    if not points:
        console.print("no undo points: the agent has not changed anything here yet")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("id", "taken", "files", "label"):
        table.add_column(column, justify="right" if column == "files" else "left")
    for point in points:
        table.add_row(point.id, _when(point), str(len(point.files_changed)), escape(point.label))
    console.print(table)
    console.print("`engram undo` restores the newest point that differs from the files now")


def _change_line(change: PathChange) -> str:
    counts = ""
    if change.status in ("modified", "added", "deleted"):
        counts = ("binary" if change.lines_added is None
                  else f"+{change.lines_added} -{change.lines_removed}")
    words = " ".join(w for w in (_WORDS[change.status], counts) if w)
    return f" {_MARKS[change.status]} {escape(change.path)}  [dim]{words}[/]"


def _print_restore(result: RestoreResult) -> None:
    point = result.point
    console.print(f"restored undo point [bold]{point.id}[/] "
                  f"({escape(point.label)}, {_when(point)})")
    if not result.changes:
        console.print("the files already matched it; nothing changed")
    for change in result.changes:
        console.print(_change_line(change), highlight=False)
    if result.changes:
        console.print(f"{len(result.changes)} file(s) restored; the files as they were are saved "
                      f"as {result.saved_state} (`engram undo {result.saved_state}` brings them back)",
                      soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``undo`` command to ``app``."""

    @app.command("undo")
    def undo_cmd(
        point: str | None = _POINT,
        list_points: bool = _LIST,
        as_json: bool = _JSON,
        project: Path = _PROJECT,
    ) -> None:
        """Undo the agent's last change (edits and command effects), or list undo points."""
        if list_points and point is not None:
            fail("give an undo point or --list, not both")
        root = open_project(project).root
        if not UndoStore.exists(root):
            if list_points:
                print_json({"points": []}) if as_json else _print_points([])
            else:
                _nothing(as_json)
            return
        try:
            store = UndoStore.open(root)
            if list_points:
                points = store.list()
                print_json({"points": [p.to_dict() for p in points]}) if as_json else _print_points(points)
                return
            result = store.restore(point) if point is not None else store.undo_last()
        except UndoError as exc:
            fail(str(exc))
        if result is None:
            _nothing(as_json)
        elif as_json:
            print_json({"restored": result.to_dict()})
        else:
            _print_restore(result)


def _nothing(as_json: bool) -> None:
    message = "nothing to undo: the agent has not changed anything here yet"
    if as_json:
        print_json({"restored": None, "message": message})
    else:
        console.print(message)
