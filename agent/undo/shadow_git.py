"""A git repository of Engram's own, beside the user's, whose work tree is the project.

``<root>/.engram/undo.git`` has its own ``GIT_DIR`` and index file; every command runs with
an environment that names them, so the user's ``.git`` (index, HEAD, branches, stash,
history) is never read for writing or touched. Attributes are pinned so content is stored
and restored byte for byte (no end-of-line conversion, no clean/smudge filters).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from agent.undo.models import UndoError
from indexer.workspace import STATE_DIR_NAME, git_dir

_CONFIG = (
    "core.autocrlf=false", "core.safecrlf=false", "core.fsmonitor=false", "gc.auto=0",
    "core.hooksPath=/dev/null", "advice.addEmbeddedRepo=false", "core.quotePath=false",
    "core.symlinks=true", "core.filemode=true", "core.bare=false",
)
_ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n"


class ShadowGit:
    """Runs git against the shadow repository of one project."""

    def __init__(self, root: Path, shadow_dir: Path) -> None:
        self.root = root
        self.shadow_dir = shadow_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_DIR=str(shadow_dir), GIT_WORK_TREE=str(root),
            GIT_INDEX_FILE=str(shadow_dir / "index"), GIT_LITERAL_PATHSPECS="1",
            GIT_TERMINAL_PROMPT="0", GIT_AUTHOR_NAME="engram", GIT_AUTHOR_EMAIL="engram@localhost",
            GIT_COMMITTER_NAME="engram", GIT_COMMITTER_EMAIL="engram@localhost", LC_ALL="C",
        )
        self._env = env

    def ensure(self) -> None:
        """Create the shadow repository on first use (atomically: init aside, then rename)."""
        if not (self.shadow_dir / "HEAD").exists():
            self.shadow_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=self.shadow_dir.parent, prefix=".undo-init-"))
            env = {k: v for k, v in self._env.items()
                   if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
            self._call(["git", "init", "-q", "--bare", str(staging)], env=env)
            try:
                os.rename(staging, self.shadow_dir)
            except OSError:  # another process created it first
                if not (self.shadow_dir / "HEAD").exists():
                    raise UndoError(f"cannot create {self.shadow_dir}") from None
        self._write_info()

    def _write_info(self) -> None:
        """Ignore Engram's state and whatever the user's own repository excludes locally."""
        info = self.shadow_dir / "info"
        info.mkdir(exist_ok=True)
        lines = [f"/{STATE_DIR_NAME}/"]
        user_git = git_dir(self.root)
        if user_git is not None:
            try:
                lines.append((user_git / "info" / "exclude").read_text(encoding="utf-8",
                                                                        errors="replace"))
            except OSError:
                pass
        _write_if_changed(info / "exclude", "\n".join(lines) + "\n")
        _write_if_changed(info / "attributes", _ATTRIBUTES)

    def run(self, *args: str, stdin: bytes | None = None, ok_codes: Iterable[int] = (0,)) -> str:
        """Run ``git ARGS`` on the shadow repository; return stdout (UTF-8, surrogates kept)."""
        cmd = ["git"]
        for item in _CONFIG:
            cmd += ["-c", item]
        return self._call([*cmd, *args], stdin=stdin, ok_codes=tuple(ok_codes))

    def _call(self, cmd: list[str], *, env: dict[str, str] | None = None,
              stdin: bytes | None = None, ok_codes: tuple[int, ...] = (0,)) -> str:
        try:
            proc = subprocess.run(cmd, cwd=self.root, env=env or self._env, input=stdin,
                                  capture_output=True, check=False)
        except FileNotFoundError:
            raise UndoError("git is not installed; undo needs the git command") from None
        stderr = proc.stderr.decode("utf-8", errors="replace")
        if proc.returncode not in ok_codes or "fatal:" in stderr:
            detail = next((ln for ln in stderr.splitlines() if ln.startswith(("fatal", "error"))),
                          stderr.strip().splitlines()[-1] if stderr.strip() else "")
            raise UndoError(f"git {_verb(cmd)} failed: {detail or f'exit code {proc.returncode}'}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")


def _verb(cmd: list[str]) -> str:
    """The git subcommand of a command line (the first word after the ``-c`` options)."""
    i = 1
    while i < len(cmd) and cmd[i] == "-c":
        i += 2
    return cmd[i] if i < len(cmd) else "git"


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    temp = path.with_suffix(".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
