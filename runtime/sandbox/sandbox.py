"""``Sandbox``: validates a request, picks the backend (probed at first use) and runs."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runtime.sandbox.backends import Backend, RunRequest
from runtime.sandbox.bwrap import BwrapBackend
from runtime.sandbox.capture import OutputCallback
from runtime.sandbox.cgroups import CgroupSupport
from runtime.sandbox.cgroups import probe as probe_cgroups
from runtime.sandbox.config import SandboxSettings
from runtime.sandbox.docker import DockerBackend
from runtime.sandbox.execution import execute
from runtime.sandbox.limits import Limits
from runtime.sandbox.local import WARNING as LOCAL_WARNING
from runtime.sandbox.local import LocalBackend
from runtime.sandbox.result import RunResult, SandboxError, SandboxUnavailable

log = logging.getLogger(__name__)

_USE_LOCAL = ('to run commands without isolation, set backend = "local" in the [sandbox] table '
              'of .engram/config.toml (or ENGRAM_SANDBOX__BACKEND=local)')


class Sandbox:
    """Runs commands of one project under its settings' backend and limits.

    ``workdir`` is the directory commands may write (the project root); it defaults to each
    run's ``cwd``. The backend is chosen and probed on first use; a backend that cannot work
    here raises ``SandboxUnavailable`` with what to do about it.
    """

    def __init__(self, settings: SandboxSettings | None = None,
                 workdir: Path | str | None = None, *, backend: Backend | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.workdir = Path(workdir).expanduser().resolve() if workdir is not None else None
        self._backend = backend
        self._cgroups: CgroupSupport | None = None
        self._lock = threading.Lock()
        self.warning: str | None = None
        """Set when the chosen backend does not isolate (``local``)."""

    @classmethod
    def from_settings(cls, settings: SandboxSettings, workdir: Path | str) -> Sandbox:
        """The sandbox of a project rooted at ``workdir``."""
        return cls(settings, workdir)

    @property
    def backend(self) -> Backend:
        """The backend, probed once (raises ``SandboxUnavailable``)."""
        with self._lock:
            if self._backend is None:
                self._backend = self._select()
            if self._cgroups is None:
                self._cgroups = (probe_cgroups() if self.settings.cgroups == "auto"
                                 and self._backend.name != "docker" else CgroupSupport())
            return self._backend

    @property
    def cgroups(self) -> CgroupSupport:
        """Which limits have a cgroup behind them (probed with the backend)."""
        self.backend  # noqa: B018 - probes
        assert self._cgroups is not None
        return self._cgroups

    def _select(self) -> Backend:
        choice = self.settings.backend
        if choice == "local":
            self.warning = LOCAL_WARNING
            log.warning(LOCAL_WARNING)
            return LocalBackend()
        if choice == "docker":
            docker = DockerBackend(self.settings.docker_image)
            problem = docker.probe()
            if problem is not None:
                raise SandboxUnavailable(f"the docker sandbox backend is unavailable: {problem}")
            return docker
        bwrap = BwrapBackend()
        problem = bwrap.probe()
        if problem is not None:
            what = "no isolating sandbox backend works here" if choice == "auto" else \
                "the bwrap sandbox backend is unavailable"
            raise SandboxUnavailable(f"{what}: {problem}; {_USE_LOCAL}")
        return bwrap

    def run(self, cmd: Sequence[str] | str, *, cwd: Path | str, timeout: float | None = None,
            limits: Limits | None = None, env: Mapping[str, str] | None = None,
            network: bool | None = None, writable: Iterable[Path | str] = (),
            shell: bool = False, on_output: OutputCallback | None = None,
            cancel: threading.Event | None = None) -> RunResult:
        """Run ``cmd`` and return how it ended. Never raises for what the command does;
        raises ``SandboxError`` for a request that cannot run (missing cwd, bad paths).

        ``cmd`` as a list runs without a shell; a string is split like a shell would, unless
        ``shell=True`` runs it with ``/bin/sh -c``. ``network=None`` follows the settings
        (off by default). ``on_output(stream, line)`` gets lines while the command runs.
        ``cancel``, once set, kills the run (``killed_by="signal"``).
        """
        argv, text = _argv(cmd, shell)
        request = self._request(argv, cwd, timeout, limits, env, network, writable)
        backend = self.backend
        if isinstance(backend, LocalBackend) and not _resolvable(argv[0], request):
            return _not_found(argv[0], backend.name, text)
        launch = backend.prepare(request)
        return execute(launch, request, backend=backend, cgroups=self._cgroups,
                       on_output=on_output, cancel=cancel, command_text=text)

    async def arun(self, cmd: Sequence[str] | str, *, cwd: Path | str,
                   timeout: float | None = None, limits: Limits | None = None,
                   env: Mapping[str, str] | None = None, network: bool | None = None,
                   writable: Iterable[Path | str] = (), shell: bool = False,
                   on_output: OutputCallback | None = None) -> RunResult:
        """``run`` for asyncio: the run happens on its own thread, ``on_output`` is called on
        the event loop, and cancelling the awaiting task kills the run."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[RunResult] = loop.create_future()
        cancel = threading.Event()
        callback = None
        if on_output is not None:
            user_cb = on_output

            def callback(stream: str, line: str) -> None:
                loop.call_soon_threadsafe(user_cb, stream, line)

        def settle(setter: Callable[[Any], None], value: Any) -> None:
            if not done.done():  # the awaiting task may have been cancelled meanwhile
                setter(value)

        def work() -> None:
            try:
                result = self.run(cmd, cwd=cwd, timeout=timeout, limits=limits, env=env,
                                  network=network, writable=writable, shell=shell,
                                  on_output=callback, cancel=cancel)
            except BaseException as exc:  # handed to the awaiting task, which re-raises it
                loop.call_soon_threadsafe(settle, done.set_exception, exc)
            else:
                loop.call_soon_threadsafe(settle, done.set_result, result)

        thread = threading.Thread(target=work, name="engram-sandbox-run", daemon=True)
        thread.start()
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            cancel.set()
            await asyncio.to_thread(thread.join)
            raise

    def _request(self, argv: list[str], cwd: Path | str, timeout: float | None,
                 limits: Limits | None, env: Mapping[str, str] | None, network: bool | None,
                 writable: Iterable[Path | str]) -> RunRequest:
        cwd_path = _existing_dir(cwd, "working directory")
        workdir = _existing_dir(self.workdir, "work directory") if self.workdir else cwd_path
        if workdir == Path("/"):
            raise SandboxError("the work directory cannot be / (it would make everything writable)")
        extra = tuple(_existing_dir(p, "writable path") for p in
                      [*self.settings.writable, *writable])
        if not any(cwd_path == d or d in cwd_path.parents for d in (workdir, *extra)):
            raise SandboxError(f"working directory {cwd_path} is outside the work directory "
                               f"{workdir}")
        readonly = tuple(p for p in (Path(r).expanduser().resolve() for r in self.settings.readonly)
                         if p.exists())
        base = limits or Limits.from_settings(self.settings)
        if timeout is not None and timeout <= 0:
            raise SandboxError(f"timeout must be positive, not {timeout}")
        return RunRequest(argv=argv, cwd=cwd_path, workdir=workdir, writable=extra,
                          readonly=readonly,
                          network=self.settings.network if network is None else network,
                          limits=base.with_timeout(timeout), host_env=dict(os.environ),
                          env_allow=tuple(self.settings.env_allow), env_overrides=env)


def _argv(cmd: Sequence[str] | str, shell: bool) -> tuple[list[str], str]:
    if shell:
        if not isinstance(cmd, str):
            raise SandboxError("shell=True needs the command as one string")
        if not cmd.strip():
            raise SandboxError("empty command")
        return ["/bin/sh", "-c", cmd], cmd
    if isinstance(cmd, str):
        try:
            argv = shlex.split(cmd)
        except ValueError as exc:
            raise SandboxError(f"cannot split the command line: {exc}") from None
    else:
        argv = [os.fspath(a) for a in cmd]
    if not argv or not argv[0]:
        raise SandboxError("empty command")
    return argv, shlex.join(argv)


def _existing_dir(path: Path | str, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise SandboxError(f"{what} does not exist: {p}")
    if not p.is_dir():
        raise SandboxError(f"{what} is not a folder: {p}")
    return p.resolve()


def _resolvable(program: str, request: RunRequest) -> bool:
    if "/" in program:
        return (request.cwd / program).exists()
    return shutil.which(program, path=request.host_env.get("PATH", os.defpath)) is not None


def _not_found(program: str, backend: str, text: str) -> RunResult:
    return RunResult(exit_code=127, stdout="", stderr=f"command not found: {program}\n",
                     duration_s=0.0, timed_out=False, killed_by=None, stdout_truncated=False,
                     stderr_truncated=False, backend=backend,
                     reason=f"command not found: {program}", command=text)
