"""Full tasks through the API with the replay model: SSE, WebSocket, approvals, reconnects."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.agent.api.helpers import FIXED_PRICES, SHOP_FILES, LiveServer, fix_script


def _seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


def test_task_over_sse_with_an_approval(client, shop_repo: Path, tmp_path: Path) -> None:
    sid = client.create_session(str(shop_repo), policy="suggest",
                                model=f"replay:{fix_script(tmp_path)}")
    start = client.prompt(sid, "fix the discounted total")["last_seq"]
    events = []
    for event in client.events(sid, after=start):
        events.append(event)
        if event["type"] == "approval_requested":
            assert event["kind"] == "edit" and "shop/prices.py" in event["detail"]
            # nothing is written while the question is open; the diff shows what would be
            assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
            pending = client.diff(sid)["pending"]
            assert [p["request_id"] for p in pending] == [event["request_id"]]
            assert client.session(sid)["session"]["state"] == "waiting"
            client.approve(sid, event["request_id"], note="looks right")
    types = [e["type"] for e in events]
    assert types[0] == "session_started" and types[-1] == "finished"
    assert events[-1]["status"] == "success" and events[-1]["tests"] == "green"
    assert _seqs(events) == list(range(1, len(events) + 1))
    assert all(e["session_id"] == sid for e in events)
    # live test output reaches the stream, before the run's result
    assert "test_output" in types and types.index("test_output") < types.index("test_run")
    given = [e for e in events if e["type"] == "approval_given"]
    assert given and given[0]["by"] == "user" and given[0]["note"] == "looks right"
    assert (shop_repo / "shop/prices.py").read_text().endswith(FIXED_PRICES)
    assert "+    return price * (100 - pct) / 100" in client.diff(sid)["working_tree"]
    view = client.session(sid)
    assert view["session"]["state"] == "idle" and view["session"]["last_status"] == "success"
    # undo puts the files back
    undone = client.undo(sid)
    assert undone["undone"] and "shop/prices.py" in undone["files"]
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]


def test_pins_and_an_edit_set_approved_without_one_file(client, live: LiveServer, shop_repo: Path,
                                              tmp_path: Path) -> None:
    sid = client.create_session(str(shop_repo), policy="suggest",
                                model=f"replay:{fix_script(tmp_path)}")
    start = client.prompt(sid, "fix the discounted total", pinned=["shop/cart.py", "nope.py"])["last_seq"]
    events = []
    for event in client.events(sid, after=start):
        events.append(event)
        if event["type"] == "approval_requested":
            ready = [e for e in events if e["type"] == "context_ready"][0]
            assert ready["pinned"] == ["shop/cart.py"]
            assert any(e["type"] == "notice" and "nope.py" in e["text"] for e in events)
            proposed = [e for e in events if e["type"] == "edit_set"][-1]
            assert event["edit_set_id"] == proposed["edit_set_id"]
            assert {f["path"] for f in proposed["files"]} == {"shop/prices.py", "shop/cart.py"}
            with httpx.Client(base_url=live.url,
                              headers={"Authorization": f"Bearer {live.token}"}) as http:
                bad = http.post(f"/v1/sessions/{sid}/approvals/{event['request_id']}/approve",
                                json={"rejected_hunks": {"shop/nowhere.py": [0]}})
            assert bad.status_code == 400 and "shop/nowhere.py" in bad.json()["detail"]
            # the question is still open after a bad answer
            assert [p["request_id"] for p in client.diff(sid)["pending"]] == [event["request_id"]]
            client.approve(sid, event["request_id"], rejected_hunks={"shop/cart.py": [0]})
    given = [e for e in events if e["type"] == "approval_given"]
    assert given[0]["rejected_hunks"] == {"shop/cart.py": [0]}
    assert (shop_repo / "shop/prices.py").read_text().endswith(FIXED_PRICES)
    assert (shop_repo / "shop/cart.py").read_text() == SHOP_FILES["shop/cart.py"]


def test_rejected_edit_leaves_files_alone(client, shop_repo: Path, tmp_path: Path, editor_client) -> None:
    script = fix_script(tmp_path)
    done = editor_client.run_task(client, str(shop_repo), "fix it", lambda e: False,
                                  policy="suggest", model=f"replay:{script}")
    assert done["type"] == "finished"
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    assert (shop_repo / "shop/cart.py").read_text() == SHOP_FILES["shop/cart.py"]


def test_task_over_websocket_and_reconnects_lose_nothing(client, live: LiveServer,
                                                         shop_repo: Path, tmp_path: Path) -> None:
    sid = client.create_session(str(shop_repo), policy="full-auto",
                                model=f"replay:{fix_script(tmp_path)}")
    client.prompt(sid, "fix the discounted total")
    over_ws = list(client.ws_events(sid))
    assert over_ws[-1]["type"] == "finished" and over_ws[-1]["status"] == "success"
    assert _seqs(over_ws) == list(range(1, len(over_ws) + 1))
    assert any(e["type"] == "approval_given" and e["by"] == "policy" for e in over_ws)
    # reconnect in pieces: 3 events, then Last-Event-ID, then ?after= on the WebSocket
    first = list(client.events(sid, max_events=3))
    second = list(client.events(sid, after=first[-1]["seq"], max_events=4))
    rest = list(client.ws_events(sid, after=second[-1]["seq"]))
    assert first + second + rest == over_ws
    # a raw SSE reconnect with the header resumes right after the id
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}",
                                                  "Last-Event-ID": "5"}) as http:
        with http.stream("GET", f"/v1/sessions/{sid}/events",
                         params={"close_on_finish": "true"}) as resp:
            ids = [int(line[4:]) for line in resp.iter_lines() if line.startswith("id: ")]
    assert ids == list(range(6, len(over_ws) + 1))


def test_a_second_prompt_runs_after_the_first(client, shop_repo: Path, tmp_path: Path) -> None:
    sid = client.create_session(str(shop_repo), policy="full-auto",
                                model=f"replay:{fix_script(tmp_path)}")
    client.prompt(sid, "fix the discounted total")
    first = list(client.events(sid))
    start = client.prompt(sid, "fix it again")["last_seq"]
    assert start == len(first)
    second = list(client.events(sid, after=start))
    assert second[0]["seq"] == start + 1 and second[-1]["type"] == "finished"
    sessions = client._call("GET", "/sessions")
    assert [s["session"]["id"] for s in sessions] == [sid]
    assert sessions[0]["session"]["tasks"] == 2 and len(sessions[0]["session"]["history"]) == 2


def test_cancel_while_waiting_and_busy_conflicts(client, live: LiveServer, shop_repo: Path,
                                                 tmp_path: Path) -> None:
    sid = client.create_session(str(shop_repo), policy="suggest",
                                model=f"replay:{fix_script(tmp_path)}")
    client.prompt(sid, "fix the discounted total")
    for event in client.events(sid, until_finished=False):
        if event["type"] == "approval_requested":
            break
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}) as http:
        busy = http.post(f"/v1/sessions/{sid}/prompt", json={"text": "another"})
        assert busy.status_code == 409
        unknown = http.post(f"/v1/sessions/{sid}/approvals/nope/approve", json={})
        assert unknown.status_code == 404
    client.cancel(sid)
    tail = list(client.events(sid, after=event["seq"]))
    assert tail[-1]["type"] == "finished" and tail[-1]["status"] == "stopped"
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    assert not client.session(sid)["running"]
    client._call("DELETE", f"/sessions/{sid}")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}) as http:
        assert http.get(f"/v1/sessions/{sid}").status_code == 404
