"""The bubblewrap backend: a read-only view of the system, the work directory writable,
private /tmp and /dev, new pid/ipc/uts (and network) namespaces, no capabilities.

bwrap run as root keeps uid 0 inside, so capabilities are dropped and the parts of /proc
that uid 0 may write without them (sysctls, sysrq) are mounted read-only, as Docker does.
The real home directory is not mounted; HOME is a scratch directory on the private /tmp.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

from runtime.sandbox.backends import Launch, RunRequest
from runtime.sandbox.environment import scrubbed_env

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
                "/nix")
PROC_READONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
PROC_MASKED = ("/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
               "/proc/sched_debug")
SECRET_FILES = ("/etc/shadow", "/etc/gshadow")
INSIDE_HOME = "/tmp/home"
NAMESPACE_FLAGS = ("--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc",
                   "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL")
_EXECVP_FAILED = re.compile(r"^bwrap: execvp (.+?): (.+)$", re.MULTILINE)


def interpreter_paths() -> list[Path]:
    """Where this Python lives, so ``python -m pytest`` works inside the sandbox even when
    the interpreter is under the (unmounted) home directory, e.g. pyenv."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent}
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site and os.path.isdir(user_site):
        paths.add(Path(user_site))
    return sorted(p for p in paths if p.is_dir())


def _covered(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


class BwrapBackend:
    """Runs commands under bubblewrap."""

    name = "bwrap"

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or shutil.which("bwrap")

    def probe(self) -> str | None:
        if not sys.platform.startswith("linux"):
            return "bubblewrap needs Linux"
        if self.executable is None:
            return "bwrap is not installed (apt-get install bubblewrap)"
        argv = [self.executable, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                *NAMESPACE_FLAGS, "--unshare-net", "--", "/bin/true"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap does not start: {exc}"
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["no message"])[0]
            return f"bwrap cannot create its namespaces here ({first})"
        return None

    def prepare(self, request: RunRequest) -> Launch:
        assert self.executable is not None
        inside_path = os.pathsep.join(
            [os.path.dirname(sys.executable), request.host_env.get("PATH", os.defpath)])
        env = scrubbed_env(request.host_env, home=INSIDE_HOME, path=inside_path, tmpdir="/tmp",
                           allow=request.env_allow, overrides=request.env_overrides)
        argv = [self.executable, *self.arguments(request), "--", *request.argv]
        return Launch(argv=argv, env=env, cwd=str(request.cwd), namespaced=True)

    def arguments(self, request: RunRequest) -> list[str]:
        """bwrap's options for ``request`` (mount order matters: later mounts cover earlier)."""
        args = list(NAMESPACE_FLAGS)
        args += ["--hostname", "sandbox"]
        if not request.network:
            args.append("--unshare-net")
        bound: list[Path] = []
        for system in SYSTEM_PATHS:
            if os.path.islink(system):
                args += ["--symlink", os.readlink(system), system]
            elif os.path.isdir(system):
                args += ["--ro-bind", system, system]
                bound.append(Path(system))
        for extra in [*interpreter_paths(), *request.readonly]:
            if not _covered(extra, bound):
                args += ["--ro-bind-try", str(extra), str(extra)]
                bound.append(extra)
        for secret in SECRET_FILES:
            if os.path.exists(secret):
                args += ["--ro-bind", "/dev/null", secret]
        if request.network and os.path.isdir("/run/systemd/resolve"):
            args += ["--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve"]
        args += ["--proc", "/proc"]
        for proc_path in PROC_READONLY:
            args += ["--ro-bind-try", proc_path, proc_path]
        for proc_path in PROC_MASKED:
            if os.path.exists(proc_path):
                args += ["--ro-bind", "/dev/null", proc_path]
        args += ["--dev", "/dev", "--tmpfs", "/tmp", "--dir", INSIDE_HOME]
        for rw in (request.workdir, *request.writable):
            args += ["--bind", str(rw), str(rw)]
        args += ["--remount-ro", "/", "--chdir", str(request.cwd)]
        return args

    def explain_exit(self, exit_code: int, stderr: str) -> tuple[int, str] | None:
        match = _EXECVP_FAILED.search(stderr) if exit_code == 1 else None
        if match is None:
            return None
        name, why = match.group(1), match.group(2)
        if "No such file" in why:
            return 127, f"command not found in the sandbox: {name}"
        return 126, f"cannot execute {name} in the sandbox: {why}"
