from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from agent.memory import MemorySettings, MemoryStore

_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from agent.memory import MemoryStore
    root, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    letters = "bcdfgklmnprstvz"
    words = [a + v + b for a in letters for v in "aeiou" for b in letters]
    sys.stdin.readline()  # start together
    with MemoryStore.open(root) as store:
        for i in range(n):
            w1, w2 = words[i], words[(i * 7 + 3) % len(words)]
            store.remember(f"{tag} remembers {w1} next to {w2} as item {tag}{w1}", "fact")
    print("done")
""")


def test_two_processes_writing_at_once_lose_nothing(repo: Path) -> None:
    MemoryStore.open(repo).close()
    n = 120
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(repo), tag, str(n)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for tag in ("alpha", "omega")]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with MemoryStore.open(repo) as s:
        texts = [e.text for e in s.list()]
        assert len(texts) == 2 * n == s.count()
        assert sum(t.startswith("alpha") for t in texts) == n
        hit = s.recall("omega remembers item omegabab", 500)
        assert hit and hit[0].entry.text.endswith("omegabab")


def test_an_open_store_notices_other_writers(repo: Path) -> None:
    # Two stores on one file behave like two processes: separate connections and tables.
    settings = MemorySettings(eager_rebuild_rows=0, compact_min_rows=1000)
    a = MemoryStore.open(repo, settings)
    b = MemoryStore.open(repo, settings)
    try:
        base = a.remember("The cache lives in .engram/index.sqlite", "fact")
        a.compact()
        assert b.recall("where does the cache live", 500)[0].entry.id == base.id
        new = b.remember("Integration tests need the docker daemon running", "fact")
        assert a.recall("integration tests docker daemon", 500)[0].entry.id == new.id
        b.forget(base.id)
        assert a.recall("where does the cache live", 500) == []
        b.edit(new.id, "Integration tests need podman")
        assert a.recall("integration tests podman", 500)[0].entry.text.endswith("podman")
        # A rebuild by one is picked up from the tables file by the other.
        b.compact()
        a.recall("integration tests podman", 500)
        assert a.stats()["pending"] == 0 and a.stats()["table_rows"] == 1
        # The same near-duplicate from both sides ends as one entry.
        a.remember("Lint with ruff check .", "command", source="session:a")
        b.remember("lint with `ruff check .`", "command", source="session:b")
        lint = [e for e in a.list(kind="command")]
        assert len(lint) == 1 and lint[0].sources == ("session:a", "session:b")
    finally:
        a.close()
        b.close()
