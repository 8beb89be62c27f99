"""Tier occupancy in /health and /metrics; the KV flags of `engram model serve`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from engine_helpers import make_engine

from runtime.engine import server as server_module
from runtime.engine.engine_loop import EngineLoop
from runtime.engine.server import create_app
from tui.cli import main


@pytest.fixture
def tiered_loop(llama_dir) -> Iterator[EngineLoop]:
    running = EngineLoop(make_engine(llama_dir, kv_dtype="fp8", kv_offload="cpu", sparse_budget=32,
                                     sparse_window_tokens=8, max_num_seqs=2)).start()
    yield running
    running.stop()


async def test_health_and_metrics_report_tier_occupancy(tiered_loop: EngineLoop) -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(tiered_loop)), base_url="http://test")
    body = {"prompt": list(range(3, 120)), "max_tokens": 4, "temperature": 0}
    assert (await client.post("/v1/completions", json=body)).status_code == 200
    kv = (await client.get("/health")).json()["kv"]
    assert kv["kv_dtype"] == "fp8" and kv["kv_offload"] == "cpu" and kv["sparse_budget"] == 32
    assert kv["gpu_slots_used"] > 0 and kv["gpu_hits"] > 0 and 0 < kv["gpu_hit_rate"] <= 1
    text = (await client.get("/metrics")).text
    lines = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line and line[0] != "#"}
    assert lines["engram_kv_gpu_slots_used"] == kv["gpu_slots_used"]
    assert lines["engram_kv_gpu_hits_total"] == kv["gpu_hits"]
    assert lines["engram_kv_blocks_free"] == kv["blocks_free"] == tiered_loop.engine.pool.num_blocks
    assert 'engram_kv_config{kv_dtype="fp8",kv_offload="cpu",sparse_budget="32"} 1.0' in text
    assert "engram_requests_running 0.0" in text


def test_serve_flags_reach_the_engine_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    seen = {}
    monkeypatch.setattr(server_module, "serve", lambda model, host, port, settings: seen.update(settings=settings))
    args = ["model", "serve", "tiny", "--kv-dtype", "fp8", "--kv-offload", "disk", "--sparse-budget", "512",
            "--gpu-kv-gib", "1.5"]
    assert main(args) == 0
    s = seen["settings"]
    assert (s.kv_dtype, s.kv_offload, s.sparse_budget, s.gpu_kv_gib) == ("fp8", "disk", 512, 1.5)
    assert main(["model", "serve", "tiny", "--kv-dtype", "int4"]) == 1
    assert "invalid engine option kv_dtype: Input should be 'auto', 'bf16' or 'fp8'" in capsys.readouterr().err
    assert main(["model", "serve", "tiny", "--sparse-budget", "8"]) == 1
    assert "sparse budget must be 0 (dense) or at least 32 tokens" in capsys.readouterr().err
    assert main(["model", "serve", "tiny", "--kv-offload", "tape"]) == 1
    assert "kv_offload: Input should be 'none', 'cpu' or 'disk'" in capsys.readouterr().err
