"""Definitions and references of one source file, from its tree-sitter tag query."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from indexer.languages import (
    CALLABLE_KINDS,
    CONTAINER_KINDS,
    new_parser,
    pattern_kinds,
    tag_query,
)

MAX_HEADER_LINES = 8
MAX_LINE_CHARS = 200
_COMMENT_MARKERS = re.compile(r"^\s*(?:/\*\*?|\*/|\*|///?|//!|#+|--|;+)\s?")
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]+$")
_CONSTANT_WORDS = re.compile(r"\b(?:const|final|readonly)\b")


@dataclass(slots=True)
class RawDef:
    """A definition before nesting and header tokens are worked out."""

    name: str
    kind: str
    start_byte: int
    end_byte: int
    line: int
    end_line: int
    header: str
    doc: str
    parent: int = -1


@dataclass(slots=True)
class FileTags:
    defs: list[RawDef]
    refs: dict[str, list[int]]
    syntax_errors: bool


def extract_tags(language: str, data: bytes) -> FileTags:
    """Parse ``data`` (UTF-8) and run the language's tag query.

    Syntax errors are not fatal: tree-sitter recovers and whatever parsed is kept.
    """
    tree = new_parser(language).parse(data)
    root = tree.root_node
    kinds = pattern_kinds(language)
    # name start byte -> (pattern index, kind, definition node, name node); when several
    # patterns tag one name, the earliest pattern in the query file is the most specific.
    chosen: dict[int, tuple[int, str, Node, Node]] = {}
    ref_nodes: list[Node] = []
    for pattern, caps in QueryCursor(tag_query(language)).matches(root):
        kind = kinds[pattern]
        if kind is None:
            for nodes in caps.values():
                ref_nodes.extend(nodes)
            continue
        name_node = caps["name"][0]
        start = name_node.start_byte
        prev = chosen.get(start)
        if prev is None or pattern < prev[0]:
            chosen[start] = (pattern, kind, caps[f"definition.{kind}"][0], name_node)
    defs: list[RawDef] = []
    for _pattern, kind, node, name_node in chosen.values():
        d = _make_def(kind, node, name_node, data)
        if d is not None:
            defs.append(d)
    by_bytes: dict[bytes, list[int]] = {}
    for node in ref_nodes:
        sb = node.start_byte
        if sb in chosen:
            continue  # the name of a definition, not a use
        name = data[sb:node.end_byte]
        row = node.start_point.row + 1
        found = by_bytes.get(name)
        if found is None:
            by_bytes[name] = [row]
        elif found[-1] != row:
            found.append(row)
    refs = {k.decode("utf-8", errors="replace"): v for k, v in by_bytes.items()}
    defs = _nest(defs, top_level_methods_are_functions=language == "ruby")
    return FileTags(defs=defs, refs=refs, syntax_errors=root.has_error)


def _make_def(kind: str, node: Node, name_node: Node, data: bytes) -> RawDef | None:
    name = data[name_node.start_byte:name_node.end_byte].decode("utf-8", errors="replace")
    if not name:
        return None
    start_row, end_row = node.start_point.row, node.end_point.row
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    body = node.child_by_field_name("body")
    header_end = -1
    if body is not None and body.start_byte >= node.start_byte:
        body_line = data.rfind(b"\n", 0, body.start_byte) + 1
        if body_line > line_start and not data[body_line:body.start_byte].strip():
            header_end = body_line - 1  # the body starts on a line of its own
        else:
            header_end = data.find(b"\n", body.start_byte)
    else:
        header_end = data.find(b"\n", node.start_byte)
    if header_end < 0:
        header_end = len(data)
    rows = data[line_start:header_end].split(b"\n", MAX_HEADER_LINES)[:MAX_HEADER_LINES]
    header = "\n".join(_clip(r.decode("utf-8", errors="replace")) for r in rows)
    if kind == "field":
        if not (_CONSTANT_NAME.match(name) or _CONSTANT_WORDS.search(header.split(name, 1)[0])):
            return None  # instance fields are not definitions worth mapping
        kind = "constant"
    elif kind == "variable" and _CONSTANT_NAME.match(name):
        kind = "constant"
    return RawDef(
        name=name, kind=kind, start_byte=node.start_byte, end_byte=node.end_byte,
        line=start_row + 1, end_line=end_row + 1, header=header,
        doc=_docstring(node, body, data),
    )


def _clip(line: str) -> str:
    line = line.rstrip("\r")
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"


def _nest(defs: list[RawDef], *, top_level_methods_are_functions: bool) -> list[RawDef]:
    """Order by position, link each definition to its enclosing one, drop function locals."""
    defs.sort(key=lambda d: (d.start_byte, -d.end_byte))
    kept: list[RawDef] = []
    stack: list[int] = []  # indices into kept
    for d in defs:
        while stack and kept[stack[-1]].end_byte <= d.start_byte:
            stack.pop()
        parent = stack[-1] if stack else -1
        if parent >= 0 and kept[parent].kind in CALLABLE_KINDS:
            continue  # a helper inside a function body: local, not part of the outline
        d.parent = parent
        parent_kind = kept[parent].kind if parent >= 0 else None
        if d.kind == "function" and parent_kind in CONTAINER_KINDS and parent_kind != "module":
            d.kind = "method"
        elif d.kind == "method" and parent_kind is None and top_level_methods_are_functions:
            d.kind = "function"
        stack.append(len(kept))
        kept.append(d)
    return kept


def _docstring(node: Node, body: Node | None, data: bytes) -> str:
    # Python: the first statement of the body is a string literal.
    if body is not None and body.type == "block" and body.named_child_count:
        first = body.named_children[0]
        if first.type == "expression_statement" and first.named_child_count:
            s = first.named_children[0]
            if s.type == "string":
                text = data[s.start_byte:s.end_byte].decode("utf-8", errors="replace")
                return _first_line(text.strip("rRbBuUfF").strip("\"'"))
    # Elsewhere: the comment block right above (or above the export/template wrapper).
    target = node
    if target.prev_named_sibling is None and target.parent is not None and target.parent.type in (
        "export_statement", "template_declaration", "decorated_definition"
    ):
        target = target.parent
    prev = target.prev_named_sibling
    if prev is None or "comment" not in prev.type or prev.end_point[0] < target.start_point[0] - 1:
        return ""
    if data[prev.start_byte:prev.start_byte + 2] == b"#!":
        return ""  # a shebang line, not documentation
    first = prev
    while True:
        before = first.prev_named_sibling
        if before is None or "comment" not in before.type or before.end_point[0] < first.start_point[0] - 1:
            break
        first = before
    text = data[first.start_byte:prev.end_byte].decode("utf-8", errors="replace")
    return _first_line(text, comment=True)


def _first_line(text: str, comment: bool = False) -> str:
    for raw in text.splitlines():
        line = _COMMENT_MARKERS.sub("", raw).strip() if comment else raw.strip()
        if comment and line.endswith("*/"):
            line = line[:-2].rstrip()
        line = re.sub(r"</?\w+>", "", line).strip() if comment else line
        if line and line not in ("*/", '"""', "'''"):
            return line[:MAX_LINE_CHARS]
    return ""
