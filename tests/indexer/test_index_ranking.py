"""Ranking: what many files use ranks above what nobody uses; focus and queries steer it."""

from __future__ import annotations

from .conftest import python_project


def test_widely_used_module_ranks_above_leaves(make_repo, open_index) -> None:
    index = open_index(make_repo(python_project(6)))
    repo_map = index.repo_map(4096)
    assert repo_map.files[0] == "core/util.py"
    pack = index.pack(None, 100_000)
    order = [e.path for e in pack.entries]
    assert order.index("core/util.py") < min(order.index(f"app/leaf_{i}.py") for i in range(6))
    # The helpers everybody calls come first in the map.
    assert repo_map.text.index("def normalize_path") < repo_map.text.index("def handler_")


def test_focus_pulls_a_file_and_its_neighbours_up(make_repo, open_index) -> None:
    files = python_project(6)
    files["extra/island.py"] = "def lonely_function():\n    return 42\n"
    files["extra/user.py"] = "from extra.island import lonely_function\n\nlonely_function()\n"
    index = open_index(make_repo(files))
    plain = index.repo_map(60)
    focused = index.repo_map(60, focus=["extra/user.py"])
    assert plain.files[0] == "core/util.py"
    assert focused.files[0] == "extra/island.py"  # what the focus file uses comes first
    assert index.repo_map(60, focus=["extra"]).files[0] == "extra/island.py"  # folders work too


def test_query_names_steer_the_pack(make_repo, open_index) -> None:
    files = python_project(6)
    files["extra/island.py"] = "def lonely_function():\n    return 42\n"
    index = open_index(make_repo(files))
    pack = index.pack("where is lonely_function defined?", 100_000)
    assert pack.entries[0].path == "extra/island.py"


def test_map_is_cached_per_version(make_repo, open_index) -> None:
    repo = make_repo(python_project(2))
    index = open_index(repo)
    first = index.repo_map(500)
    assert index.repo_map(500) is first
    (repo / "app/leaf_0.py").write_text("def changed_now():\n    pass\n")
    index.refresh()
    assert "changed_now" in index.repo_map(500).text
