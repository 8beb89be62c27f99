"""Shared fixtures of the eval tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from runtime.sandbox import Sandbox, SandboxError, SandboxSettings

collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def _matplotlib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mpl")


@pytest.fixture(autouse=True)
def _matplotlib_cache(_matplotlib_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One font cache per session: HOME and XDG dirs are fresh per test, and matplotlib
    would otherwise rebuild its cache (seconds) in every test that draws a chart."""
    monkeypatch.setenv("MPLCONFIGDIR", str(_matplotlib_dir))


@pytest.fixture(scope="session")
def sandbox_settings() -> SandboxSettings:
    """The isolating backend where it works here, else the rlimits-only one (so the suite
    runs on machines without user namespaces too)."""
    settings = SandboxSettings()
    try:
        Sandbox(settings).backend  # noqa: B018 - probe
    except SandboxError:
        return settings.model_copy(update={"backend": "local"})
    return settings


@pytest.fixture(scope="session")
def sandbox(sandbox_settings: SandboxSettings) -> Sandbox:
    return Sandbox(sandbox_settings)


@pytest.fixture(scope="session")
def swe_fixtures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict[str, Any]]]:
    """The five fixture instances: ``(repos_dir, dataset.jsonl, rows)``, built once."""
    from tests.evals.fixtures.build import build_fixtures

    return build_fixtures(tmp_path_factory.mktemp("swe"))


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv cache for every SWE test (environments are built once per repo + version)."""
    return tmp_path_factory.mktemp("swe-cache")


@pytest.fixture
def eval_cli() -> Callable[..., Any]:
    """Invoke ``engram eval ...`` through the command group's own ``register``."""
    from tui.commands import eval_cmds

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """engram"""

    eval_cmds.register(app)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args))

    return invoke
