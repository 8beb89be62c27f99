"""The compact byte form of a ``ParsedFile``: what workers send back and the cache stores.

marshal of plain tuples and dicts: several times faster to write and read than pickle of
the dataclasses, and only ever read by the same code that wrote it (the cache is keyed by
schema version).
"""

from __future__ import annotations

import marshal

from indexer.models import DefTag, ParsedFile


def encode_parsed(p: ParsedFile) -> bytes:
    return marshal.dumps((
        p.language, p.lines, p.tokens, p.skeleton, p.skeleton_tokens,
        tuple(tuple(d) for d in p.defs), p.refs, p.syntax_errors,
    ))


def decode_parsed(payload: bytes) -> ParsedFile:
    lang, lines, tokens, skeleton, skel_tokens, defs, refs, errors = marshal.loads(payload)
    return ParsedFile(lang, lines, tokens, skeleton, skel_tokens,
                      tuple(DefTag(*d) for d in defs), refs, errors)
