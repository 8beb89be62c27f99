from __future__ import annotations

import pytest

from agent.edits import EditBlock, EditBlockParseError, parse_edit_blocks

FENCE = "```"


def test_blocks_for_several_files_new_file_and_continuation() -> None:
    text = f"""I will fix both files.

src/app.py
{FENCE}python
<<<<<<< SEARCH
def total(xs):
    return sum(xs) + 1
=======
def total(xs):
    return sum(xs)
>>>>>>> REPLACE
{FENCE}

{FENCE}python
<<<<<<< SEARCH
print("a")
=======
print("b")
>>>>>>> REPLACE
{FENCE}

**`lib/util.js`**:
{FENCE}js
<<<<<<< SEARCH
const x = 1;
=======
const x = 2;
>>>>>>> REPLACE
{FENCE}

{FENCE}python
docs/new_module.py
<<<<<<< SEARCH
=======
VALUE = 3
>>>>>>> REPLACE
{FENCE}
"""
    blocks = parse_edit_blocks(text)
    assert [b.path for b in blocks] == ["src/app.py", "src/app.py", "lib/util.js",
                                        "docs/new_module.py"]
    assert blocks[0] == EditBlock("src/app.py", "def total(xs):\n    return sum(xs) + 1\n",
                                  "def total(xs):\n    return sum(xs)\n", line=5)
    assert blocks[1].search == 'print("a")\n'
    assert blocks[2].replace == "const x = 2;\n"
    assert blocks[3].search == "" and blocks[3].replace == "VALUE = 3\n"


def test_text_without_blocks_and_markdown_rules_are_not_errors() -> None:
    assert parse_edit_blocks("Title\n=======\n\nNo edits needed.") == []


@pytest.mark.parametrize(("text", "line", "words"), [
    ("a.py\n<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n", 4, "without '======='"),
    ("a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n", 2, "never ends"),
    ("<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n", 1, "without a file path"),
    ("a.py\nx\n>>>>>>> REPLACE\n", 3, "without a '<<<<<<< SEARCH'"),
    ("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n=======\nz\n>>>>>>> REPLACE\n", 6, "no '>>>>>>> REPLACE'"),
])
def test_malformed_blocks_raise_with_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(EditBlockParseError) as info:
        parse_edit_blocks(text)
    assert info.value.line == line
    assert words in str(info.value)


def test_prose_above_a_block_is_not_a_path_but_known_names_are() -> None:
    with pytest.raises(EditBlockParseError, match="without a file path"):
        parse_edit_blocks("Fix:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    blocks = parse_edit_blocks("Makefile\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
                               "`VERSION`\n```\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n```")
    assert [b.path for b in blocks] == ["Makefile", "VERSION"]
