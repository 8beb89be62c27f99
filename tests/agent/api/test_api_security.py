"""Who may call the API, and what it lets them read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from agent.api.auth import load_or_create_token, token_matches, token_path
from agent.api.paths import PathRefused, confine
from agent.api.server import ServerRefused, check_bind
from agent.api.settings import ServerSettings, is_loopback
from tests.agent.api.helpers import LiveServer


def test_token_is_created_once_with_mode_0600(isolated_user_dirs: Path) -> None:
    token = load_or_create_token()
    path = token_path()
    assert path == isolated_user_dirs / ".config" / "engram" / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token() == token and len(token) >= 32
    assert token_matches(token, f"Bearer {token}")
    assert not token_matches(token, f"Bearer {token}x") and not token_matches(token, token)


def test_requests_without_the_right_token_get_401(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as http:
        assert http.get("/v1/sessions").status_code == 401
        wrong = http.get("/v1/sessions", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert http.get("/metrics").status_code == 401
        ok = http.get("/v1/sessions", headers={"Authorization": f"Bearer {live.token}"})
        assert ok.status_code == 200 and ok.json() == []
        assert http.get("/healthz").json()["ok"] is True
        assert "engram_api_requests_total" in http.get(
            "/metrics", headers={"Authorization": f"Bearer {live.token}"}).text
        # CORS is closed by default: no allow-origin header for a foreign page
        pre = http.options("/v1/sessions", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in pre.headers


def test_websocket_without_token_is_refused(live: LiveServer) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as err:
        with connect(live.url.replace("http", "ws") + "/v1/sessions/x/events/ws"):
            pass
    assert err.value.response.status_code == 401


def test_paths_are_confined_to_the_repository(live: LiveServer, client, shop_repo: Path,
                                              tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret outside\n")
    os.symlink(outside, shop_repo / "link_out.txt")
    sid = client.create_session(str(shop_repo), policy="suggest")
    assert "apply_discount" in client.read_file(sid, "shop/prices.py")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}) as http:
        def status(path: str) -> int:
            return http.get(f"/v1/sessions/{sid}/files", params={"path": path}).status_code

        assert status("../outside.txt") == 403
        assert status("shop/../../outside.txt") == 403
        assert status(str(outside)) == 403
        assert status("link_out.txt") == 403
        assert status(".env") == 403  # secrets are not served
        assert status(".git/config") == 403
        assert status("missing.py") == 404
        # a repository outside the allowed roots cannot be opened
        elsewhere = http.post("/v1/sessions", json={"root": "/etc"})
        assert elsewhere.status_code == 403 and "allowed root" in elsewhere.json()["detail"]


def test_oversized_bodies_get_413(live: LiveServer, client, shop_repo: Path) -> None:
    sid = client.create_session(str(shop_repo))
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}) as http:
        big = http.post(f"/v1/sessions/{sid}/prompt", json={"text": "x" * 10_000})
        assert big.status_code == 413
        chunked = http.post(f"/v1/sessions/{sid}/prompt",
                            content=iter([b'{"text": "', b"y" * 8000, b'"}']),
                            headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
    assert not client.session(sid)["running"]


def test_confine_and_bind_rules(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert confine(tmp_path, "a") == (tmp_path / "a").resolve()
    for bad in ("../x", "/etc/passwd", "a/../../x", "", "C:/x"):
        with pytest.raises(PathRefused):
            confine(tmp_path, bad)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    with pytest.raises(ServerRefused, match="--allow-remote"):
        check_bind(ServerSettings(host="0.0.0.0", roots=[tmp_path]))
    check_bind(ServerSettings(host="0.0.0.0", allow_remote=True, roots=[tmp_path]))
