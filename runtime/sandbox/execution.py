"""Runs one prepared launch to its end: streams and caps output, enforces the limits that
need watching (wall time, processes, output, memory events), kills the whole run when one
is hit, and leaves nothing behind."""

from __future__ import annotations

import logging
import os
import re
import selectors
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from runtime.sandbox.backends import Backend, Launch, RunRequest
from runtime.sandbox.capture import OutputCallback, StreamCapture
from runtime.sandbox.cgroups import CgroupSupport, RunCgroups
from runtime.sandbox.limits import preexec_setter, prlimit_prefix, rlimits
from runtime.sandbox.procwatch import ProcessWatch
from runtime.sandbox.result import KilledBy, RunResult

log = logging.getLogger(__name__)

_TICK_S = 0.05
_SCAN_EVERY_S = 0.1
_DRAIN_GRACE_S = 1.0
_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
                  signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ}
_OOM_PATTERNS = re.compile(
    r"MemoryError|Cannot allocate memory|std::bad_alloc|out of memory|memory allocation of \d+ bytes failed",
    re.IGNORECASE)


@dataclass
class _Outcome:
    killed_by: KilledBy | None = None
    reason: str = ""


def _join_cgroups_prefix(procs_files: list[str]) -> list[str]:
    # the launcher joins the run's cgroups before exec, so no child can fork outside them
    joins = " && ".join(f"echo $$ > {shlex.quote(f)}" for f in procs_files)
    script = f'{joins} || {{ echo "engram sandbox: cannot join the run cgroup" >&2; exit 125; }}; exec "$@"'
    return ["/bin/sh", "-c", script, "engram-sandbox"]


def execute(launch: Launch, request: RunRequest, *, backend: Backend,
            cgroups: CgroupSupport | None, on_output: OutputCallback | None,
            cancel: threading.Event | None, command_text: str) -> RunResult:
    """Start ``launch``, wait for it within ``request.limits`` and account for how it ended."""
    limits = request.limits
    run_cg: RunCgroups | None = None
    if launch.host_limits and cgroups is not None and cgroups.any:
        try:
            run_cg = RunCgroups(cgroups, limits)
        except OSError as exc:
            log.warning("cannot create the run's cgroup (%s); using rlimits only", exc)
    argv = list(launch.argv)
    preexec = None
    if launch.host_limits:
        rl = rlimits(limits, address_space=not (run_cg and run_cg.limits_memory))
        prefix = prlimit_prefix(rl)
        if prefix is None:
            preexec = preexec_setter(rl)
        else:
            argv = prefix + argv
        if run_cg is not None and run_cg.dirs:
            argv = _join_cgroups_prefix(run_cg.procs_files()) + argv
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=launch.env, cwd=launch.cwd,
                                start_new_session=True, preexec_fn=preexec)
    except OSError as exc:
        _cleanup(launch, run_cg)
        return RunResult(exit_code=127 if isinstance(exc, FileNotFoundError) else 126,
                         stdout="", stderr=f"{exc.strerror}: {argv[0]}\n", duration_s=0.0,
                         timed_out=False, killed_by=None, stdout_truncated=False,
                         stderr_truncated=False, backend=backend.name,
                         reason=f"cannot start {argv[0]}: {exc.strerror}", command=command_text)
    try:
        out, err, outcome = _supervise(proc, launch, request, run_cg, on_output, cancel, start)
    finally:
        if proc.poll() is None:
            _kill(proc, launch, run_cg, None)
            proc.wait()
        _cleanup(launch, run_cg)
    duration = time.monotonic() - start
    return _result(proc.returncode, out, err, outcome, duration, backend, request, run_cg,
                   command_text)


def _supervise(proc: subprocess.Popen[bytes], launch: Launch, request: RunRequest,
               run_cg: RunCgroups | None, on_output: OutputCallback | None,
               cancel: threading.Event | None, start: float,
               ) -> tuple[StreamCapture, StreamCapture, _Outcome]:
    limits = request.limits
    out = StreamCapture("stdout", limits.output_bytes, on_output)
    err = StreamCapture("stderr", limits.output_bytes, on_output)
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}  # type: ignore[union-attr]
    sel = selectors.DefaultSelector()
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    open_streams = set(streams)
    # a pidfd wakes the loop the moment the launcher exits (even with its output closed)
    pidfd = _open_pidfd(proc.pid)
    if pidfd is not None:
        sel.register(pidfd, selectors.EVENT_READ)
    watch = None
    if limits.processes is not None and launch.host_limits and not (run_cg and run_cg.limits_processes):
        watch = ProcessWatch(proc.pid, namespaced=launch.namespaced)
    outcome = _Outcome()
    deadline = start + limits.wall_s if limits.wall_s is not None else None
    next_scan = start + _SCAN_EVERY_S
    drain_until: float | None = None

    def stop(kind: KilledBy, reason: str) -> None:
        if outcome.killed_by is None:
            outcome.killed_by, outcome.reason = kind, reason
        _kill(proc, launch, run_cg, watch)

    try:
        while True:
            if sel.get_map():
                for key, _ in sel.select(_TICK_S):
                    if key.fd == pidfd:
                        sel.unregister(pidfd)
                        continue
                    data = os.read(key.fd, 65536)
                    if data:
                        streams[key.fd].feed(data)
                    else:
                        sel.unregister(key.fd)
                        open_streams.discard(key.fd)
            else:
                # no pidfd and both streams closed: poll (without reaping, so the group
                # can still be killed safely once the launcher exits)
                time.sleep(0.002)
            now = time.monotonic()
            if drain_until is not None:
                if now > drain_until or not open_streams:
                    break
                continue
            if (limits.output_kill_bytes is not None and outcome.killed_by is None
                    and out.total + err.total > limits.output_kill_bytes):
                stop("output", f"output limit of {_size(limits.output_kill_bytes)} exceeded")
            if _exited(proc):
                # the command ended: whatever it left running goes now, then drain its pipes
                _kill(proc, launch, run_cg, watch)
                drain_until = now + _DRAIN_GRACE_S
                continue
            if deadline is not None and now > deadline:
                stop("timeout", f"wall-clock limit of {limits.wall_s:g}s exceeded")
            elif cancel is not None and cancel.is_set():
                stop("signal", "cancelled by the caller")
            elif run_cg is not None and (breach := run_cg.breach()) is not None:
                stop(breach, _breach_reason(breach, request))  # type: ignore[arg-type]
            elif watch is not None and now >= next_scan:
                next_scan = now + _SCAN_EVERY_S
                if len(watch.members()) > (limits.processes or 0):
                    stop("processes", f"process limit of {limits.processes} exceeded")
            if outcome.killed_by is not None:
                proc.wait()
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        for cap in streams.values():
            cap.close()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    proc.wait()
    if outcome.killed_by is None and run_cg is not None and run_cg.breach() == "memory":
        outcome.killed_by, outcome.reason = "memory", _breach_reason("memory", request)
    return out, err, outcome


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3
        return None


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """True once the launcher exited, without reaping it: while it is an unreaped zombie its
    pid (the process group id) cannot be reused, so killing the group stays safe."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return proc.poll() is not None


def _kill(proc: subprocess.Popen[bytes], launch: Launch, run_cg: RunCgroups | None,
          watch: ProcessWatch | None) -> None:
    """Kill every process of the run: the launcher's group (with bwrap, killing the
    launcher tears down its pid namespace), the run's cgroups, the container."""
    if launch.kill is not None:
        try:
            launch.kill()
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("could not kill the container: %s", exc)
    if proc.returncode is None:  # not reaped yet: the group id is still ours
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.kill()
    if run_cg is not None:
        run_cg.kill_all()
    if watch is not None and not launch.namespaced:
        # repeat: a fork bomb outside any cgroup refills the session between scans
        for _ in range(50):
            members = watch.members()
            if not members:
                break
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def _cleanup(launch: Launch, run_cg: RunCgroups | None) -> None:
    if run_cg is not None:
        run_cg.remove()
    for step in launch.cleanup:
        try:
            step()
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("sandbox cleanup step failed: %s", exc)


def _breach_reason(kind: str, request: RunRequest) -> str:
    if kind == "processes":
        return f"process limit of {request.limits.processes} reached (pids cgroup)"
    return f"memory limit of {_size(request.limits.memory_bytes or 0)} exceeded (memory cgroup)"


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"


def _result(returncode: int, out: StreamCapture, err: StreamCapture, outcome: _Outcome,
            duration: float, backend: Backend, request: RunRequest,
            run_cg: RunCgroups | None, command_text: str) -> RunResult:
    exit_code = 128 - returncode if returncode < 0 else returncode
    stderr = err.text()
    killed_by, reason = outcome.killed_by, outcome.reason
    if killed_by is None:
        explained = backend.explain_exit(exit_code, stderr)
        if explained is not None:
            exit_code, reason = explained
        elif exit_code > 128 and (exit_code - 128) in {int(s) for s in _CRASH_SIGNALS}:
            killed_by, reason = "signal", _signal_reason(exit_code - 128, request)
        elif (exit_code != 0 and request.limits.memory_bytes is not None
              and not (run_cg and run_cg.limits_memory) and _OOM_PATTERNS.search(stderr[-4096:])):
            killed_by = "memory"
            reason = (f"allocation failed under the memory limit of "
                      f"{_size(request.limits.memory_bytes)} (address space)")
    return RunResult(exit_code=exit_code, stdout=out.text(), stderr=stderr,
                     duration_s=round(duration, 4), timed_out=killed_by == "timeout",
                     killed_by=killed_by, stdout_truncated=out.truncated,
                     stderr_truncated=err.truncated, backend=backend.name, reason=reason,
                     command=command_text, output_bytes=out.total + err.total)


def _signal_reason(signum: int, request: RunRequest) -> str:
    name = signal.Signals(signum).name
    if signum == signal.SIGXCPU and request.limits.cpu_s is not None:
        return f"CPU time limit of {request.limits.cpu_s:g}s exceeded ({name})"
    if signum == signal.SIGXFSZ and request.limits.file_size_bytes is not None:
        return f"file size limit of {_size(request.limits.file_size_bytes)} exceeded ({name})"
    return f"terminated by {name}"
