"""Secrets are never indexed, searched or packed."""

from __future__ import annotations

import pytest

from indexer.secrets import SecretFilter

SECRET = "sk-live-THIS-MUST-NEVER-LEAK"


@pytest.mark.parametrize("path", [
    ".env", ".env.local", "config/.env.production", "deploy/prod.env", "keys/server.pem",
    "keys/tls.key", "home/.ssh/id_rsa", "id_ed25519.pub", ".npmrc", ".pypirc", ".netrc",
    "gcp/credentials-prod.json", "cert.p12", ".aws/credentials", "secrets.yaml",
])
def test_default_patterns(path: str) -> None:
    assert SecretFilter().is_secret(path)


@pytest.mark.parametrize("path", ["src/env.py", "keyboard.py", "docs/credentials.md", "secrets.py"])
def test_ordinary_files_are_not_secrets(path: str) -> None:
    assert not SecretFilter().is_secret(path)


def test_secrets_never_reach_index_search_or_pack(make_repo, open_index) -> None:
    repo = make_repo({
        "app.py": "import os\n\ndef token():\n    return os.environ['API_TOKEN']\n",
        ".env": f"API_TOKEN={SECRET}\n",
        "deploy/id_rsa": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n",
        "conf/credentials.json": f'{{"key": "{SECRET}"}}\n',
        "conf/private.cfg": f"password = {SECRET}\n",
        ".npmrc": f"//registry.npmjs.org/:_authToken={SECRET}\n",
    })
    (repo / ".env.local").write_text(f"X={SECRET}\n")  # untracked too
    index = open_index(repo, secret_patterns=["conf/private.cfg"])
    stats = index.refresh()
    assert [f.path for f in index.files()] == ["app.py"]
    assert stats.skipped["secret"] == 6
    pack = index.pack(None, 1_000_000)
    for text in (pack.to_markdown(), pack.to_xml(), pack.render("json")):
        assert SECRET not in text
    assert index.search("API_TOKEN authToken password key") == [] or all(
        h.path == "app.py" for h in index.search("API_TOKEN authToken password key")
    )
    assert SECRET not in index.repo_map(10_000).text
