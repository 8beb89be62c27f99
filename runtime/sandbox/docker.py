"""The Docker backend: one throw-away container per run, the work directory mounted at the
same path, limits enforced by the engine (SWE-bench images run this way)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from runtime.sandbox.backends import Launch, RunRequest
from runtime.sandbox.environment import scrubbed_env

CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NOT_FOUND_CODES = {127: "command not found in the container",
                    126: "cannot execute the command in the container"}


class DockerBackend:
    """Runs commands with ``docker run`` in ``image``."""

    name = "docker"

    def __init__(self, image: str, executable: str | None = None) -> None:
        self.image = image
        self.executable = executable or shutil.which("docker")

    def probe(self) -> str | None:
        if self.executable is None:
            return "the docker client is not installed"
        try:
            proc = subprocess.run([self.executable, "info", "--format", "{{.ServerVersion}}"],
                                  capture_output=True, text=True, timeout=15,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"no Docker engine answers: {exc}"
        if proc.returncode != 0 or not proc.stdout.strip():
            lines = (proc.stderr.strip() or proc.stdout.strip() or "no message").splitlines()
            return f"no Docker engine is reachable ({lines[-1]})"
        return None

    def prepare(self, request: RunRequest) -> Launch:
        assert self.executable is not None
        name = f"engram-{uuid.uuid4().hex[:12]}"
        inner_env = scrubbed_env(request.host_env, home="/tmp", path=CONTAINER_PATH,
                                 tmpdir="/tmp", allow=request.env_allow,
                                 overrides=request.env_overrides)
        docker = self.executable
        argv = [docker, *self.arguments(request, name, inner_env), self.image, *request.argv]

        def kill() -> None:
            subprocess.run([docker, "kill", name], capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL, check=False)

        def remove() -> None:
            subprocess.run([docker, "rm", "-f", name], capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL, check=False)

        # the client needs the caller's environment (DOCKER_HOST, contexts); the container
        # gets only the scrubbed one, via -e
        return Launch(argv=argv, env=dict(os.environ), cwd=str(request.workdir), namespaced=False,
                      host_limits=False, kill=kill, cleanup=[remove])

    def arguments(self, request: RunRequest, name: str, env: dict[str, str]) -> list[str]:
        """``docker run`` options for ``request`` (everything before the image)."""
        lim = request.limits
        args = ["run", "--rm", "--name", name, "--init",
                "--network", "bridge" if request.network else "none",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--user", f"{os.getuid()}:{os.getgid()}",
                "-v", f"{request.workdir}:{request.workdir}", "-w", str(request.cwd)]
        for path in request.writable:
            args += ["-v", f"{path}:{path}"]
        for path in request.readonly:
            args += ["-v", f"{path}:{path}:ro"]
        if lim.processes is not None:
            args += ["--pids-limit", str(lim.processes)]
        if lim.memory_bytes is not None:
            args += ["--memory", str(lim.memory_bytes), "--memory-swap", str(lim.memory_bytes)]
        if lim.file_size_bytes is not None:
            args += ["--ulimit", f"fsize={lim.file_size_bytes}"]
        if lim.cpu_s is not None:
            cpu = max(1, int(lim.cpu_s + 0.999))
            args += ["--ulimit", f"cpu={cpu}:{cpu + 1}"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return args

    def explain_exit(self, exit_code: int, stderr: str) -> tuple[int, str] | None:
        if exit_code in _NOT_FOUND_CODES and "exec" in stderr and "OCI runtime" in stderr:
            return exit_code, _NOT_FOUND_CODES[exit_code]
        if exit_code == 125:
            lines = stderr.strip().splitlines() or ["docker run failed"]
            return 125, f"docker could not start the container: {lines[-1]}"
        return None
