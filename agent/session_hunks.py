"""Checking a per-hunk answer to an edit-set approval before it goes to the loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.events import ApprovalRequested
from agent.session_setup import SessionError


def checked_rejections(request: ApprovalRequested, hunks: Mapping[str, int],
                       rejected: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """``rejected`` as plain data (sorted, without duplicates), or ``SessionError`` naming
    the path or index that the request does not offer."""
    if request.kind != "edit":
        raise SessionError(f"approval {request.request_id!r} is for a {request.kind}; only edit "
                           f"sets have hunks to reject")
    out: dict[str, list[int]] = {}
    for path, indices in rejected.items():
        count = hunks.get(path)
        if count is None:
            raise SessionError(f"{path!r} is not in edit set {request.edit_set_id or request.request_id!r} "
                               f"(files: {', '.join(hunks) or 'none'})")
        if isinstance(indices, (str, bytes)) or not isinstance(indices, Sequence):
            raise SessionError(f"{path}: give the rejected hunks as a list of indices")
        for index in indices:
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
                raise SessionError(f"{path}: no hunk {index!r}; it has {count} "
                                   f"(indices 0-{count - 1})" if count else f"{path}: it has no hunks")
        if indices:
            out[path] = sorted(set(indices))
    return out


def covers_every_hunk(hunks: Mapping[str, int], rejected: Mapping[str, Sequence[int]]) -> bool:
    """Every hunk of every file is rejected (the same as declining the edit set)."""
    return bool(hunks) and all(len(set(rejected.get(path, ()))) >= count
                               for path, count in hunks.items())
