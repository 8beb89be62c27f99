"""Files that hold secrets: never indexed, searched or packed.

Gitignore-style patterns matched against repository-relative paths. Users extend the list
with ``[index] secret_patterns``; nothing can shrink it.
"""

from __future__ import annotations

from collections.abc import Sequence

from indexer.filters import PatternSet

DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    # environment files (.env, .env.local, .env.production, ...)
    ".env", ".env.*", "*.env",
    # private keys and key stores
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.ppk",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    # credential files of package managers, clouds and tools
    ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".htpasswd",
    ".dockercfg", "**/.docker/config.json", "**/.aws/credentials", ".boto",
    "credentials*.json", "*.credentials", "service-account*.json",
    "client_secret*.json", "secrets.json", "secrets.yaml", "secrets.yml", "secrets.toml",
    "secrets.ini", "*.secrets", "*.tfvars", "*.tfstate",
    "*.tfstate.*",
)


class SecretFilter:
    """Decides whether a repository-relative path names a secret."""

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        # Defaults and user patterns apart: a user's ``!negation`` must not re-admit a
        # default secret.
        self._defaults = PatternSet(DEFAULT_SECRET_PATTERNS)
        self._extra = PatternSet(extra_patterns)

    def is_secret(self, rel_path: str) -> bool:
        return self._defaults.match(rel_path) or self._extra.match(rel_path)
