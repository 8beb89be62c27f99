"""The local backend: no isolation at all, only limits. Used when the user opts in."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from runtime.sandbox.backends import Launch, RunRequest
from runtime.sandbox.environment import scrubbed_env

WARNING = ("the 'local' sandbox backend does not isolate commands: they can read and write "
           "anything your user can, and use the network; only time, memory and output limits apply")


class LocalBackend:
    """Runs commands directly on the host, in their own session, with a scratch HOME."""

    name = "local"

    def probe(self) -> str | None:
        return None

    def prepare(self, request: RunRequest) -> Launch:
        scratch = Path(tempfile.mkdtemp(prefix="engram-local-"))
        (scratch / "tmp").mkdir()
        env = scrubbed_env(request.host_env, home=str(scratch), path=request.host_env.get("PATH", os.defpath),
                           tmpdir=str(scratch / "tmp"), allow=request.env_allow,
                           overrides=request.env_overrides)
        return Launch(argv=list(request.argv), env=env, cwd=str(request.cwd), namespaced=False,
                      cleanup=[lambda: shutil.rmtree(scratch, ignore_errors=True)])

    def explain_exit(self, exit_code: int, stderr: str) -> tuple[int, str] | None:
        return None
