"""An ACP prompt (text, embedded resources, resource links) -> the task text Engram runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

MAX_RESOURCE_CHARS = 40_000


async def prompt_to_task(blocks: list[Any], session_id: str, client: Any, can_read: bool) -> str:
    """The prompt's text, with embedded files and linked files appended. Linked files are
    read through the client (``fs/read_text_file``) when it offers that, so unsaved editor
    buffers are what the agent sees."""
    parts: list[str] = []
    for block in blocks:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            if text is not None:
                parts.append(_file_section(resource.uri, text))
        elif kind == "resource_link":
            path = _path_of(block.uri)
            if can_read and path is not None:
                try:
                    got = await client.read_text_file(session_id=session_id, path=path)
                    parts.append(_file_section(block.uri, got.content))
                    continue
                except Exception:  # an unreadable link is mentioned, not fatal
                    pass
            parts.append(f"(see {block.uri})")
    return "\n\n".join(p for p in parts if p)


def _path_of(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path) or None
    return None


def _file_section(uri: str, text: str) -> str:
    if len(text) > MAX_RESOURCE_CHARS:
        text = text[:MAX_RESOURCE_CHARS] + "\n... (cut)"
    return f"File {uri}:\n```\n{text}\n```"
