"""Fixtures for the engine tests: tiny checkpoints built once per session, engines on CPU."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runtime.engine.engine import Engine

# Test modules import the helpers by name (importlib import mode adds no test folder to sys.path).
sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import make_hf_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """Lazily built ``family -> (folder, hf_model)``."""
    built: dict[str, tuple[Path, object]] = {}

    class Lazy(dict):
        def __missing__(self, family: str) -> tuple[Path, object]:
            folder = tmp_path_factory.mktemp(f"hf-{family}")
            built[family] = (folder, make_hf_model(family, folder))
            self[family] = built[family]
            return built[family]

    return Lazy()


@pytest.fixture(scope="session")
def llama_dir(tiny_models: dict) -> Path:
    return tiny_models["llama"][0]


@pytest.fixture
def llama_engine(llama_dir: Path) -> Engine:
    from engine_helpers import make_engine

    return make_engine(llama_dir)
