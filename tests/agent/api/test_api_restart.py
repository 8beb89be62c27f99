"""A server stopped mid-task restarts with the session resumable; memory and search."""

from __future__ import annotations

from pathlib import Path

from agent.api.recovery import files_to_restore, remove_leftovers
from agent.api.settings import ServerSettings
from tests.agent.api.helpers import FIXED_PRICES, SHOP_FILES, fix_script, start_server


def test_stopped_server_resumes_a_waiting_task(api_settings: ServerSettings, editor_client,
                                               shop_repo: Path, tmp_path: Path) -> None:
    first = start_server(api_settings)
    client = editor_client.EngramClient(first.url, first.token)
    sid = client.create_session(str(shop_repo), policy="suggest",
                                model=f"replay:{fix_script(tmp_path)}")
    client.prompt(sid, "fix the discounted total")
    before = []
    for event in client.events(sid, until_finished=False):
        before.append(event)
        if event["type"] == "approval_requested":
            break
    client.close()
    first.stop()  # the process goes away while a person is deciding

    second = start_server(api_settings)
    client = editor_client.EngramClient(second.url, second.token)
    try:
        view = client.session(sid)
        assert view["session"]["state"] == "interrupted" and not view["running"]
        client.resume(sid)
        after = []
        for event in client.events(sid, after=before[-1]["seq"]):
            after.append(event)
            if event["type"] == "approval_requested":
                client.approve(sid, event["request_id"])
        assert after[0]["type"] == "notice" and "resume" in after[0]["text"]
        assert any(e["type"] == "session_started" and e["resumed"] for e in after)
        assert after[-1]["status"] == "success"
        # one log, numbered without gaps across both server processes
        everything = before + after
        assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
        assert (shop_repo / "shop/prices.py").read_text().endswith(FIXED_PRICES)
    finally:
        client.close()
        second.stop()


def test_memory_and_search(client, shop_repo: Path) -> None:
    sid = client.create_session(str(shop_repo))
    added = client._call("POST", f"/sessions/{sid}/memory",
                         json={"text": "run tests with python -m unittest", "kind": "command"})
    entries = client._call("GET", f"/sessions/{sid}/memory")
    assert [e["id"] for e in entries] == [added["id"]]
    edited = client._call("PATCH", f"/sessions/{sid}/memory/{added['id']}",
                          json={"text": "run the tests with python -m unittest discover", "pinned": True})
    assert edited["pinned"] and "discover" in edited["text"]
    client._call("DELETE", f"/sessions/{sid}/memory/{added['id']}")
    assert client._call("GET", f"/sessions/{sid}/memory") == []
    hits = client.search(sid, "apply_discount")
    assert hits and hits[0]["path"] == "shop/prices.py"


def test_recovery_puts_back_a_half_applied_edit_set(shop_repo: Path) -> None:
    new_prices = SHOP_FILES["shop/prices.py"].replace("price * pct", "price * (100 - pct)")
    edit = {"changes": [
        {"path": "shop/prices.py", "before": SHOP_FILES["shop/prices.py"], "after": new_prices},
        {"path": "shop/cart.py", "before": SHOP_FILES["shop/cart.py"], "after": "changed\n"},
        {"path": "shop/new.py", "before": None, "after": "x = 1\n"},
    ]}
    # killed after the first file was swapped in: only that one shows the edit
    (shop_repo / "shop/prices.py").write_text(new_prices)
    (shop_repo / "shop/new.py").write_text("x = 1\n")
    (shop_repo / "shop/.cart.py.abc.engram-tmp").write_text("partial")
    writes = files_to_restore(shop_repo, edit)
    assert sorted(p.name for p, _ in writes) == ["new.py", "prices.py"]
    assert dict((p.name, d) for p, d in writes)["new.py"] is None
    assert remove_leftovers(shop_repo) == ["shop/.cart.py.abc.engram-tmp"]
