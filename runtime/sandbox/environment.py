"""The environment a sandboxed command sees: rebuilt from an allow-list, so API keys and
tokens in the caller's environment never reach the tests it runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Locale, terminal and reproducibility settings only; nothing here can carry a secret.
ALLOWED_NAMES = frozenset({
    "LANG", "LANGUAGE", "TERM", "TZ", "NO_COLOR", "COLORTERM", "SOURCE_DATE_EPOCH",
    "USER", "LOGNAME",
})
ALLOWED_PREFIXES = ("LC_",)


def scrubbed_env(
    host_env: Mapping[str, str],
    *,
    home: str,
    path: str,
    tmpdir: str,
    allow: Iterable[str] = (),
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: allow-listed host variables, the extra names in ``allow``,
    fixed HOME/PATH/TMPDIR, then ``overrides`` (what the caller passes explicitly)."""
    extra = set(allow)
    env = {
        name: value for name, value in host_env.items()
        if name in ALLOWED_NAMES or name in extra or name.startswith(ALLOWED_PREFIXES)
    }
    env.update({
        "HOME": home,
        "PATH": path,
        "TMPDIR": tmpdir,
        "SHELL": "/bin/sh",
        # lines reach on_output while the command runs, not when its buffer fills
        "PYTHONUNBUFFERED": "1",
        # a test run must not leave __pycache__ folders in the user's tree (nor in undo points)
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.setdefault("LANG", "C.UTF-8")
    if overrides:
        env.update({str(k): str(v) for k, v in overrides.items()})
    return env
