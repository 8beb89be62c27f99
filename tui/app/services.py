"""The app's blocking work, free of Textual: each function runs in a worker thread.

Probing the model and sandbox, indexing, undo, taking hunks back out, and memory actions.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import EngramSettings
from indexer.workspace import git_dir
from runtime.atomic_write import write_text_atomic
from tui.app.diffs import FilePatch, RevertError, revert_hunk


@dataclass(frozen=True)
class Probe:
    """What the status bar shows before the first task."""

    model: str
    window: int
    model_note: str
    """Why this model (e.g. the fallback to the local model), or a problem with it."""
    sandbox: str
    sandbox_note: str
    is_git: bool


def probe(root: Path, settings: EngramSettings, chat_model: Any = None) -> Probe:
    """Resolve the model and the sandbox backend without sending anything."""
    from runtime.llm import LLMError, choose_default
    from runtime.sandbox import Sandbox, SandboxError

    if chat_model is not None:
        model = str(getattr(chat_model, "model_name", "") or getattr(chat_model, "model", "")
                    or type(chat_model).__name__)
        window, note = settings.model.context_window or 128_000, ""
    else:
        try:
            resolved = choose_default(settings.model)
            model, window = resolved.ref, resolved.context_window
            note = resolved.reason if resolved.fallback_from else ""
        except LLMError as exc:
            model, window, note = f"{settings.model.provider}:{settings.model.model}", 0, str(exc)
    try:
        sandbox, sandbox_note = Sandbox.from_settings(settings.sandbox, root).backend.name, ""
    except SandboxError as exc:
        sandbox, sandbox_note = "unavailable", str(exc)
    return Probe(model, window, note, sandbox, sandbox_note, git_dir(root) is not None)


def warm_up() -> None:
    """Import and prime what the first answer renders with (markdown, the Python lexer), so
    that cost is paid in the background and not in the middle of a stream."""
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    Syntax("x = 1", "python").highlight("x = 1")
    Markdown("# x\n\n`y`").parsed  # noqa: B018 - parsing is the point


def settle_memory() -> None:
    """Move every object alive now (imported modules, the rendered conversation) out of the
    collector's reach. A full collection scans every tracked object; with a million of them
    (LangChain, pydantic, the app) one pass takes hundreds of milliseconds and freezes the
    screen mid-stream. Objects created later are collected as usual."""
    gc.collect()
    gc.freeze()


def refresh_index(root: Path, settings: EngramSettings, progress: Any) -> str:
    """Bring the index cache up to date; a one-line summary."""
    from indexer import Index, IndexerError

    try:
        with Index.open(root, settings.index) as index:
            stats = index.refresh(progress=progress)
    except IndexerError as exc:
        return f"index: {exc}"
    return f"indexed {stats.files} files"


def undo_last(root: Path) -> tuple[str, list[str]] | None:
    """Restore the newest undo point; its label and the files it put back (None: nothing)."""
    from agent.undo import UndoStore

    result = UndoStore.open(root).undo_last()
    if result is None:
        return None
    return result.point.label, [c.path for c in result.changes]


def write_atomic(path: Path, text: str | None) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename; ``None`` deletes it."""
    if text is None:
        path.unlink(missing_ok=True)
        return
    # the agent's temp suffix: a crash leftover in the user's tree is found and removed
    write_text_atomic(path, text, newline="", keep_mode=True, suffix=".engram-tmp")


def reject(root: Path, patch: FilePatch, hunk: int | None, states: list[str]) -> list[int]:
    """Take one hunk (or every pending hunk) of ``patch`` back out of the file on disk.

    A snapshot is taken first, so ``/undo`` brings the rejected lines back. Returns the
    indexes of the hunks now rejected; raises ``RevertError`` when the file moved on.
    """
    from agent.undo import UndoError, UndoStore

    path = (root / patch.path).resolve()
    if root.resolve() not in path.parents:
        raise RevertError(f"{patch.path} is outside the project")
    targets = [i for i, s in enumerate(states) if s != "rejected"] if hunk is None else [hunk]
    try:
        current: str | None = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise RevertError(f"cannot read {patch.path}: {exc}") from None
    if current is None and patch.action != "delete":
        raise RevertError(f"{patch.path} no longer exists")
    remaining = [i for i, s in enumerate(states) if s != "rejected" and i not in targets]
    if patch.action == "create" and not remaining:
        new_text: str | None = None
    else:
        new_text = current or ""
        for index in sorted(targets, key=lambda i: patch.hunks[i].new_start, reverse=True):
            new_text = revert_hunk(new_text, patch.hunks[index])
    try:
        UndoStore.open(root).snapshot(f"before rejecting {patch.path}", include=[patch.path])
    except UndoError:
        pass  # the rejection itself still works; only its undo is lost
    try:
        write_atomic(path, new_text)
    except OSError as exc:
        raise RevertError(f"cannot write {patch.path}: {exc.strerror or exc}") from None
    return targets


def recall_memory(root: Path, settings: EngramSettings, task: str) -> list[Any]:
    """The entries the agent's memory recalls for ``task`` (``Recalled`` objects)."""
    from agent.memory import MemoryStore

    if not settings.memory.enabled:
        return []
    with MemoryStore.open(root, settings.memory) as store:
        return store.recall(task, settings.memory.recall_budget_tokens, record_use=False)


def memory_entries(root: Path, settings: EngramSettings) -> list[Any]:
    from agent.memory import MemoryStore

    with MemoryStore.open(root, settings.memory) as store:
        return store.list()


def memory_action(root: Path, settings: EngramSettings, action: str, entry_id: int,
                  text: str | None = None, pinned: bool = False) -> str:
    """Edit, forget or pin one entry; a one-line report."""
    from agent.memory import MemoryStore

    with MemoryStore.open(root, settings.memory) as store:
        if action == "edit":
            store.edit(entry_id, text)
            return f"memory {entry_id} updated"
        if action == "forget":
            store.forget(entry_id)
            return f"memory {entry_id} forgotten"
        store.pin(entry_id, not pinned)
        return f"memory {entry_id} {'unpinned' if pinned else 'pinned'}"
