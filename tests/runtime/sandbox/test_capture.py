from __future__ import annotations

from runtime.sandbox.capture import StreamCapture


def test_small_output_is_kept_whole_and_lines_are_streamed() -> None:
    lines: list[tuple[str, str]] = []
    cap = StreamCapture("stdout", 1024, lambda s, ln: lines.append((s, ln)))
    cap.feed(b"one\ntw")
    cap.feed(b"o\r\nthree")
    cap.close()
    assert cap.text() == "one\ntwo\r\nthree"
    assert not cap.truncated
    assert lines == [("stdout", "one"), ("stdout", "two"), ("stdout", "three")]


def test_large_output_keeps_head_and_tail_with_a_marker() -> None:
    cap = StreamCapture("stderr", 100, None)
    cap.feed(b"H" * 60)
    for _ in range(100):
        cap.feed(b"m" * 50)
    cap.feed(b"T" * 50)
    text = cap.text()
    assert cap.truncated and cap.total == 60 + 5000 + 50
    assert text.startswith("H" * 50)
    assert text.endswith("T" * 50)
    assert "bytes of stderr omitted" in text
    dropped = int(text.split("[... ")[1].split(" ")[0])
    assert dropped == cap.total - 100


def test_invalid_utf8_is_replaced_and_split_characters_survive_chunking() -> None:
    lines: list[str] = []
    cap = StreamCapture("stdout", 1024, lambda s, ln: lines.append(ln))
    euro = "€".encode()
    cap.feed(b"bad \xff\xfe " + euro[:1])
    cap.feed(euro[1:] + b"\n")
    cap.close()
    assert lines == ["bad \ufffd\ufffd €"]
    assert cap.text() == "bad \ufffd\ufffd €\n"


def test_a_failing_callback_does_not_break_capture() -> None:
    calls = []

    def boom(stream: str, line: str) -> None:
        calls.append(line)
        raise RuntimeError("callback bug")

    cap = StreamCapture("stdout", 1024, boom)
    cap.feed(b"a\nb\n")
    cap.close()
    assert calls == ["a"]
    assert cap.text() == "a\nb\n"
