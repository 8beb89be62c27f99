"""The docker backend: its command line always; real runs only where an engine answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.sandbox import Limits, Sandbox, SandboxSettings, SandboxUnavailable
from runtime.sandbox.backends import RunRequest
from runtime.sandbox.docker import DockerBackend


def _request(workdir: Path, network: bool) -> RunRequest:
    return RunRequest(argv=["pytest", "-q"], cwd=workdir, workdir=workdir, writable=(),
                      readonly=(), network=network,
                      limits=Limits(memory_bytes=512 * 1024 * 1024, processes=50, cpu_s=3),
                      host_env={"OPENAI_API_KEY": "sk-x", "LANG": "C.UTF-8"})


def test_docker_command_line_confines_the_container(workdir: Path) -> None:
    backend = DockerBackend("python:3.11-slim", executable="/usr/bin/docker")
    launch = backend.prepare(_request(workdir, network=False))
    argv = launch.argv
    assert argv[:2] == ["/usr/bin/docker", "run"]
    assert argv[-3:] == ["python:3.11-slim", "pytest", "-q"]
    joined = " ".join(argv)
    assert "--network none" in joined and "--cap-drop ALL" in joined
    assert "--pids-limit 50" in joined and f"--memory {512 * 1024 * 1024}" in joined
    assert f"-v {workdir}:{workdir}" in joined and f"-w {workdir}" in joined
    assert "--ulimit cpu=3:4" in joined
    assert "sk-x" not in joined and "LANG=C.UTF-8" in joined
    assert launch.kill is not None and not launch.host_limits
    networked = backend.prepare(_request(workdir, network=True)).argv
    assert "--network bridge" in " ".join(networked)


def test_docker_backend_runs_or_says_why_not(workdir: Path) -> None:
    problem = DockerBackend("python:3.11-slim").probe()
    sandbox = Sandbox(SandboxSettings(backend="docker"), workdir)
    if problem is not None:
        with pytest.raises(SandboxUnavailable, match="docker"):
            sandbox.run(["true"], cwd=workdir)
        pytest.skip(f"no Docker engine here: {problem}")
    res = sandbox.run(["python", "-c", "print(6 * 7)"], cwd=workdir, timeout=120)
    assert res.ok and res.stdout.strip() == "42"
