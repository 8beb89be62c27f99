"""The cgroup probe and per-run cgroups, on a fake cgroup tree and on the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.sandbox import Limits
from runtime.sandbox.cgroups import CgroupSupport, RunCgroups, probe


def _fake_v1(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    (root / "pids" / "user").mkdir(parents=True)
    self_cgroup = tmp_path / "self_cgroup"
    self_cgroup.write_text("8:pids:/user\n4:memory:/user\n0::/\n")
    return root, self_cgroup


def test_probe_finds_nothing_without_a_cgroup_file(tmp_path: Path) -> None:
    assert probe(tmp_path, tmp_path / "missing") == CgroupSupport()


def test_probe_rejects_a_hierarchy_that_is_not_a_cgroup(tmp_path: Path) -> None:
    # a plain directory accepts mkdir but never grows the controller's files
    root, self_cgroup = _fake_v1(tmp_path)
    support = probe(root, self_cgroup)
    assert support.pids_parent is None and not support.any
    assert list((root / "pids" / "user").iterdir()) == []  # the probe cleaned up


def test_v2_uses_only_delegated_controllers(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    mine = root / "user.slice"
    mine.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (mine / "cgroup.subtree_control").write_text("cpu\n")
    self_cgroup = tmp_path / "self_cgroup"
    self_cgroup.write_text("0::/user.slice\n")
    assert probe(root, self_cgroup) == CgroupSupport()
    assert (mine / "cgroup.subtree_control").read_text() == "cpu\n"  # never changed


def test_run_cgroup_files_limits_and_breach(tmp_path: Path) -> None:
    parent = tmp_path / "pids"
    parent.mkdir()
    support = CgroupSupport(pids_parent=parent)
    run = RunCgroups(support, Limits(processes=7))
    [d] = run.dirs
    assert (d / "pids.max").read_text() == "7"
    assert run.procs_files() == [str(d / "cgroup.procs")]
    assert run.breach() is None
    (d / "pids.events").write_text("max 3\n")
    assert run.breach() == "processes"


def test_real_cgroup_probe_leaves_no_directories() -> None:
    support = probe()
    if support.pids_parent is None:
        pytest.skip(f"no writable pids cgroup here ({support.describe()})")
    before = {p.name for p in support.pids_parent.iterdir() if p.name.startswith("engram-")}
    run = RunCgroups(support, Limits(processes=5))
    assert (run.dirs[0] / "pids.max").read_text().strip() == "5"
    run.remove()
    after = {p.name for p in support.pids_parent.iterdir() if p.name.startswith("engram-")}
    assert after == before


def test_v2_memory_cgroup_limit_and_oom_breach(tmp_path: Path) -> None:
    parent = tmp_path / "v2"
    parent.mkdir()
    support = CgroupSupport(pids_parent=parent, memory_parent=parent)
    run = RunCgroups(support, Limits(processes=9, memory_bytes=1 << 30))
    [d] = run.dirs  # one v2 cgroup carries both controllers
    assert run.limits_memory and run.limits_processes
    assert (d / "memory.max").read_text() == str(1 << 30)
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert run.breach() == "memory"
