"""What bwrap must keep a command from doing, even when it runs as root."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from runtime.sandbox import Limits, Sandbox, SandboxSettings

PY = sys.executable


def test_writes_outside_the_work_dir_do_not_reach_the_host(
        bwrap_sandbox: Sandbox, workdir: Path, tight: Limits) -> None:
    real_home = Path(os.environ["HOME"])
    before_home = sorted(real_home.rglob("*"))
    parent_before = sorted(workdir.parent.iterdir())
    script = (
        'for target in "$HOME/pwned" "$1/pwned" /etc/pwned "$2/pwned" /usr/pwned /pwned; do '
        '  if echo x > "$target" 2>/dev/null; then echo "wrote $target"; else echo "denied $target"; fi; '
        'done; echo ok > inside.txt'
    )
    res = bwrap_sandbox.run(["/bin/sh", "-c", script, "sh", str(real_home), str(workdir.parent)],
                            cwd=workdir, limits=tight)
    assert res.ok, res.stderr
    assert "denied /etc/pwned" in res.stdout and "denied /usr/pwned" in res.stdout
    assert "denied /pwned" in res.stdout
    assert (workdir / "inside.txt").read_text() == "ok\n"
    # whatever the command thinks it wrote elsewhere landed on private scratch space
    assert sorted(real_home.rglob("*")) == before_home
    assert sorted(workdir.parent.iterdir()) == parent_before
    assert not Path("/etc/pwned").exists() and not Path("/pwned").exists()


def test_home_inside_is_scratch_not_the_real_home(bwrap_sandbox: Sandbox, workdir: Path) -> None:
    res = bwrap_sandbox.run("echo $HOME; ls -A $HOME | wc -l", cwd=workdir, shell=True)
    home, count = res.stdout.split()
    assert home != os.environ["HOME"] and count == "0"


def test_deleting_files_outside_the_work_dir_fails(
        bwrap_sandbox: Sandbox, workdir: Path, tmp_path: Path, tight: Limits) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    keep = outside / "keep.txt"
    keep.write_text("precious")
    (workdir / "mine.txt").write_text("mine")
    res = bwrap_sandbox.run(["/bin/sh", "-c", 'rm -rf "$1"; rm -f "$2"; rm -f mine.txt',
                             "sh", str(outside), str(keep)], cwd=workdir, limits=tight)
    assert res.exit_code == 0
    assert keep.read_text() == "precious"
    assert not (workdir / "mine.txt").exists()


def test_extra_writable_paths_only_when_asked(
        bwrap_sandbox: Sandbox, workdir: Path, tmp_path: Path, tight: Limits) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    cmd = ["/bin/sh", "-c", 'echo hi > "$1/f"', "sh", str(extra)]
    denied = bwrap_sandbox.run(cmd, cwd=workdir, limits=tight)
    assert denied.exit_code != 0 and not (extra / "f").exists()
    allowed = bwrap_sandbox.run(cmd, cwd=workdir, limits=tight, writable=[extra])
    assert allowed.ok and (extra / "f").read_text() == "hi\n"


@pytest.fixture
def local_server() -> tuple[int, threading.Event]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(10)
    connected = threading.Event()

    def accept() -> None:
        try:
            conn, _ = srv.accept()
            connected.set()
            conn.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    yield srv.getsockname()[1], connected
    srv.close()


CONNECT = ("import socket, sys\n"
           "try:\n    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)\n"
           "except OSError as e:\n    print('refused', e); sys.exit(3)\nprint('connected')")


def test_no_network_by_default(bwrap_sandbox: Sandbox, workdir: Path, tight: Limits,
                               local_server: tuple[int, threading.Event]) -> None:
    port, connected = local_server
    res = bwrap_sandbox.run([PY, "-c", CONNECT, str(port)], cwd=workdir, limits=tight)
    assert res.exit_code == 3 and "refused" in res.stdout
    assert not connected.is_set()


def test_network_when_allowed(bwrap_sandbox: Sandbox, workdir: Path, tight: Limits,
                              local_server: tuple[int, threading.Event]) -> None:
    port, connected = local_server
    res = bwrap_sandbox.run([PY, "-c", CONNECT, str(port)], cwd=workdir, limits=tight,
                            network=True)
    assert res.ok and "connected" in res.stdout
    assert connected.wait(5)


def test_environment_is_scrubbed(workdir: Path, any_sandbox: Sandbox,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    monkeypatch.setenv("ENGRAM_TEST_PASSTHROUGH", "visible")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    res = any_sandbox.run(["env"], cwd=workdir, env={"EXPLICIT": "yes"})
    assert "sk-secret-123" not in res.stdout and "OPENAI_API_KEY" not in res.stdout
    assert "ENGRAM_TEST_PASSTHROUGH" not in res.stdout
    assert "EXPLICIT=yes" in res.stdout and "LC_ALL=C.UTF-8" in res.stdout
    allowing = Sandbox(SandboxSettings(backend=any_sandbox.settings.backend,
                                       env_allow=["ENGRAM_TEST_PASSTHROUGH"]), workdir)
    assert "ENGRAM_TEST_PASSTHROUGH=visible" in allowing.run(["env"], cwd=workdir).stdout


def test_python_runs_leave_no_bytecode_in_the_tree(workdir: Path, any_sandbox: Sandbox) -> None:
    (workdir / "helper.py").write_text("VALUE = 42\n")
    res = any_sandbox.run([PY, "-c", "import helper; print(helper.VALUE)"], cwd=workdir)
    assert res.ok and "42" in res.stdout
    assert not (workdir / "__pycache__").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="checks what uid 0 can do inside")
def test_root_inside_has_no_capabilities_and_cannot_change_the_kernel(
        bwrap_sandbox: Sandbox, workdir: Path, tight: Limits) -> None:
    current = Path("/proc/sys/kernel/domainname").read_text().strip()
    script = (
        "grep CapEff /proc/self/status; "
        f"if printf %s '{current}' > /proc/sys/kernel/domainname 2>/dev/null; "
        "then echo sysctl-writable; else echo sysctl-denied; fi; "
        "if mount -o remount,rw /usr 2>/dev/null; then echo remounted; else echo mount-denied; fi"
    )
    res = bwrap_sandbox.run(["/bin/sh", "-c", script], cwd=workdir, limits=tight)
    assert "CapEff:\t0000000000000000" in res.stdout
    assert "sysctl-denied" in res.stdout and "mount-denied" in res.stdout
