"""The environment an instance's tests run in: which commands install it (the row's own,
the official spec's, or a fallback) and a venv cached per repository and version.

Cached part (once per repo + version): a venv with the spec's ``pip_packages`` and
requirements. Per instance: a fresh venv layered on the cached one through a ``.pth`` file,
where the install commands run against that instance's working copy. So instances never share
an editable install, and the heavy dependencies install once.
"""

from __future__ import annotations

import fcntl
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from evals.swebench.dataset import Instance

EnvSource = Literal["row", "spec", "fallback"]
FALLBACK_INSTALL = ("if [ -f setup.py ] || [ -f pyproject.toml ]; then "
                    "python -m pip install --quiet --no-build-isolation -e .; fi")
FALLBACK_TEST_CMD = "python -m pytest -rA --tb=short -p no:cacheprovider"
# Spec steps that need root or conda, which a local venv cannot honour.
_SYSTEM_STEP = re.compile(r"\b(apt-get|apt|locale-gen|conda|yum|dnf|sudo)\b|/etc/")


@dataclass(frozen=True)
class EnvPlan:
    """How to build and test one instance."""

    key: str
    """Cache key: ``owner__name-version`` (plus a digest of the cached steps)."""
    source: EnvSource
    setup: tuple[str, ...]
    """Commands for the cached venv (dependencies)."""
    install: tuple[str, ...]
    """Commands run in the instance's working copy, in its own venv."""
    eval_commands: tuple[str, ...]
    test_cmd: str
    test_args: tuple[str, ...]
    log_parser: str | None
    notes: tuple[str, ...] = field(default=())

    def test_command_line(self) -> str:
        args = " ".join(shlex.quote(a) for a in self.test_args)
        return f"{self.test_cmd} {args}".strip()


def official_spec(inst: Instance) -> dict[str, object] | None:
    """The ``swebench`` spec for this repo and version, if the package knows it."""
    from swebench.harness.constants import MAP_REPO_VERSION_TO_SPECS

    return MAP_REPO_VERSION_TO_SPECS.get(inst.repo, {}).get(inst.version)


def plan_environment(inst: Instance) -> EnvPlan:
    """Row fields win, then the official spec, then the fallback (editable install + pytest)."""
    spec = official_spec(inst)
    notes: list[str] = []
    setup: tuple[str, ...] = ()
    eval_commands: tuple[str, ...] = ()
    if spec is not None:
        setup, install, eval_commands, test_cmd, spec_notes = _from_spec(spec, inst)
        test_args = tuple(_spec_directives(inst))
        notes += spec_notes
    else:
        install, test_cmd = (FALLBACK_INSTALL,), FALLBACK_TEST_CMD
        test_args = tuple(dict.fromkeys([*inst.FAIL_TO_PASS, *inst.PASS_TO_PASS]))
    source: EnvSource = "spec" if spec is not None else "fallback"
    if inst.install is not None or inst.test_cmd is not None:
        source = "row"
        if inst.install is not None:
            install = inst.install
        if inst.test_cmd is not None:
            test_cmd, eval_commands = inst.test_cmd, ()
            test_args = tuple(dict.fromkeys([*inst.FAIL_TO_PASS, *inst.PASS_TO_PASS]))
    if source == "fallback":
        notes.append(f"no official spec for {inst.repo} {inst.version or '(no version)'} and no "
                     f"install/test_cmd in the row: fallback environment (editable install + pytest)")
    key = f"{inst.repo_dir_name}-{inst.version or 'any'}-{_digest(setup)}"
    return EnvPlan(key, source, setup, tuple(install), eval_commands, test_cmd, test_args,
                   inst.log_parser, tuple(notes))


def _from_spec(spec: dict[str, object], inst: Instance) -> tuple[
        tuple[str, ...], tuple[str, ...], tuple[str, ...], str, list[str]]:
    from swebench.harness.constants import MAP_REPO_TO_REQS_PATHS

    notes: list[str] = []
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    if spec.get("python") and str(spec["python"]) != host:
        notes.append(f"the spec asks for Python {spec['python']}; this run uses {host}")
    setup: list[str] = []
    if spec.get("pip_packages"):
        setup.append("python -m pip install --quiet "
                     + " ".join(shlex.quote(str(p)) for p in spec["pip_packages"]))  # type: ignore[attr-defined]
    packages = str(spec.get("packages") or "")
    if packages == "requirements.txt":
        for path in MAP_REPO_TO_REQS_PATHS.get(inst.repo, []):
            setup.append(f"if [ -f {path} ]; then python -m pip install --quiet -r {path}; fi")
    elif packages == "environment.yml":
        notes.append("the spec's conda environment.yml is not installed (no conda here)")
    elif packages:
        setup.append(f"python -m pip install --quiet {packages}")
    install: list[str] = []
    for step in [*_as_list(spec.get("pre_install")), *_as_list(spec.get("install"))]:
        if _SYSTEM_STEP.search(step):
            notes.append(f"skipped system step: {step[:80]}")
        else:
            install.append(step)
    eval_commands = [c for c in _as_list(spec.get("eval_commands")) if not _SYSTEM_STEP.search(c)]
    tests = _as_list(spec.get("test_cmd"))
    eval_commands += tests[:-1]
    return tuple(setup), tuple(install), tuple(eval_commands), tests[-1], notes


def _spec_directives(inst: Instance) -> list[str]:
    from swebench.harness.test_spec.python import get_test_directives

    return get_test_directives({"repo": inst.repo, "test_patch": inst.test_patch})  # type: ignore[typeddict-item]


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _digest(steps: tuple[str, ...]) -> str:
    import hashlib

    return hashlib.sha1("\n".join(steps).encode()).hexdigest()[:8]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def create_venv(target: Path) -> None:
    """A venv that sees this interpreter's packages (pytest, pip, setuptools) so installs work
    offline; what the instance installs shadows them."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(target)], check=True, capture_output=True, timeout=300)


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise OSError(f"{venv} has no site-packages folder")
    return found[0]


def layer_venv(instance_venv: Path, cached_venv: Path) -> None:
    """Make ``instance_venv`` see the cached venv's packages (after its own)."""
    pth = site_packages(instance_venv) / "_engram_cached_env.pth"
    pth.write_text(str(site_packages(cached_venv)) + "\n", encoding="utf-8")


def venv_environment(venv: Path) -> dict[str, str]:
    """Variables that make ``python``/``pip`` in a shell mean the venv's."""
    import os

    return {"VIRTUAL_ENV": str(venv),
            "PATH": os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", os.defpath)]),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class EnvLock:
    """An exclusive lock on one cached environment, across threads and processes."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder.parent / f".{folder.name}.lock"
        self._fh: TextIO | None = None

    def __enter__(self) -> EnvLock:  # noqa: PYI034 - a final class
        self._fh = fh = open(self.path, "w")  # held until __exit__
        fcntl.flock(fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._fh is not None
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()


def read_marker(folder: Path) -> dict[str, object] | None:
    try:
        return json.loads((folder / "ready.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
