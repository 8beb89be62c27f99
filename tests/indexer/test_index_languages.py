"""Definitions and references per language, from one small sample file each."""

from __future__ import annotations

import pytest

from indexer.languages import LANGUAGES, language_for

from .conftest import sample_sources

# file -> (language, {(name, kind)} that must be defined, names that must be referenced)
EXPECTED: dict[str, tuple[str, set[tuple[str, str]], set[str]]] = {
    "sample.py": ("python", {("MAX_SIZE", "constant"), ("registry", "variable"), ("Shape", "class"),
                             ("area", "method"), ("helper", "function")},
                  {"helper", "compute", "join", "Base", "Point", "OrderedDict"}),
    "sample.js": ("javascript", {("MAX_SIZE", "constant"), ("Shape", "class"), ("area", "method"),
                                 ("compute", "function"), ("arrow", "function")},
                  {"helper", "Point", "Base", "compute"}),
    "sample.ts": ("typescript", {("Drawable", "interface"), ("Size", "type"), ("Color", "enum"),
                                 ("Shape", "class"), ("draw", "method"), ("compute", "function"),
                                 ("MAX_SIZE", "constant")},
                  {"helper", "Context", "Point", "Drawable", "Size"}),
    "sample.tsx": ("tsx", {("Props", "interface"), ("Card", "function"), ("Header", "function")},
                   {"Panel", "render", "format", "Props"}),
    "sample.go": ("go", {("MaxSize", "constant"), ("registry", "variable"), ("Shape", "struct"),
                         ("Drawer", "interface"), ("Draw", "method"), ("Area", "method"),
                         ("helper", "function")},
                  {"helper", "compute", "Println", "Canvas", "Shape"}),
    "sample.rs": ("rust", {("MAX_SIZE", "constant"), ("Shape", "struct"), ("Color", "enum"),
                           ("Drawable", "trait"), ("draw", "method"), ("helper", "function"),
                           ("square", "macro"), ("Shape", "impl")},
                  {"helper", "compute", "HashMap", "Canvas", "new"}),
    "Sample.java": ("java", {("Shape", "class"), ("MAX_SIZE", "constant"), ("area", "method"),
                             ("Drawable", "interface"), ("draw", "method"), ("Color", "enum")},
                    {"compute", "Base", "Drawable", "Canvas", "List"}),
    "sample.c": ("c", {("MAX_SIZE", "constant"), ("shape", "struct"), ("shape_t", "type"),
                       ("color", "enum"), ("helper", "function"), ("area", "function")},
                 {"helper", "compute", "printf", "shape_t"}),
    "sample.cpp": ("cpp", {("geo", "module"), ("Shape", "class"), ("area", "method"),
                           ("Point", "struct"), ("helper", "function")},
                   {"helper", "compute", "Base", "Point", "vector"}),
    "sample.rb": ("ruby", {("MAX_SIZE", "constant"), ("Geometry", "module"), ("Shape", "class"),
                           ("area", "method"), ("build", "method"), ("helper", "function")},
                  {"helper", "compute", "Base", "require"}),
    "Sample.cs": ("c_sharp", {("Geo", "module"), ("Shape", "class"), ("MaxSize", "constant"),
                              ("Area", "method"), ("IDrawable", "interface"), ("Draw", "method"),
                              ("Point", "struct"), ("Color", "enum")},
                  {"Compute", "Base", "IDrawable", "Canvas"}),
    "sample.php": ("php", {("MAX_SIZE", "constant"), ("Drawable", "interface"), ("Shape", "class"),
                           ("area", "method"), ("draw", "method"), ("helper", "function")},
                   {"helper", "compute", "area", "origin", "Point", "Base", "Drawable"}),
    "sample.sh": ("bash", {("MAX_SIZE", "constant"), ("helper", "function"), ("build", "function")},
                  {"helper", "compute_all", "build"}),
}


def test_every_language_has_a_sample() -> None:
    assert {lang for lang, _, _ in EXPECTED.values()} == set(LANGUAGES)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    import subprocess

    from indexer import Index

    repo = tmp_path_factory.mktemp("langs")
    for name, text in sample_sources().items():
        (repo / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    with Index.open(repo) as index:
        index.refresh()
        files = {f.path: f for f in index.files()}
        yield index, files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_definitions_and_references(indexed, name: str) -> None:
    index, files = indexed
    language, defs, refs = EXPECTED[name]
    assert files[name].language == language
    found_defs: set[tuple[str, str]] = set()
    for def_name, _kind in defs:
        info = index.symbols(def_name)
        found_defs |= {(d.name, d.kind) for d in info.definitions if d.path == name}
    assert defs <= found_defs
    for ref in refs:
        assert any(r.path == name for r in index.symbols(ref).references), f"{ref} not referenced in {name}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_skeleton_keeps_signatures_not_bodies(indexed, name: str) -> None:
    index, files = indexed
    pack = index.pack(None, 10_000)
    assert pack.complete  # tiny repo: everything fits in full
    outline = index._ensure_loaded()[name].skeleton
    assert outline.count("\n") < files[name].lines  # bodies are elided
    for def_name, kind in EXPECTED[name][1]:
        if kind in ("function", "method", "class", "struct", "interface"):
            assert def_name in outline


def test_definition_details(indexed) -> None:
    index, _ = indexed
    by_path = {d.path: d for d in index.symbols("Shape.area").definitions}
    assert {"sample.py", "Sample.java", "sample.php"} <= set(by_path)
    assert "sample.go" not in by_path  # Go's Area is not in a Shape, and differs in case
    area = by_path["sample.py"]
    assert area.parent == "Shape"
    assert area.signature == "def area(self, scale: float) -> float:"
    (shape,) = [d for d in index.symbols("Shape").definitions if d.path == "sample.py"]
    assert shape.doc == "A shape." and (shape.line, shape.end_line) == (9, 13)
    (go_area,) = [d for d in index.symbols("Area").definitions if d.path == "sample.go"]
    assert go_area.doc == "Area computes the area."


def test_language_detection() -> None:
    assert language_for("a/b.PY") == "python"
    assert language_for("script", b"#!/usr/bin/env python3\nprint(1)\n") == "python"
    assert language_for("run", b"#!/bin/bash\necho\n") == "bash"
    assert language_for("README.md") is None
    assert language_for("Rakefile") == "ruby"
