"""The server over real sockets: REST, the WebSocket flows, token rules, malformed messages, limits."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from PIL import Image  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from tests.server_util import auth, live_server, recv_frame, recv_json, stalled_client  # noqa: E402

FLICK = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.3, 0, 0]}]


@pytest.fixture(scope="module")
def srv():
    with live_server() as s:
        yield s


@pytest.fixture
def sess(srv):
    s = srv.create("ball-off-table")
    yield s
    srv.http.delete(f"/api/sessions/{s['session']}", headers=srv.admin())


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ws_open(srv, sess, token=None, **kw):
    return connect(srv.ws_base + sess["ws_url"], open_timeout=10, **kw), token or sess["player_token"]


def jpeg(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


# ---- REST -------------------------------------------------------------------------------------


def test_scenes_openapi_and_protocol_are_published(srv):
    assert "ball-off-table" in srv.http.get("/api/scenes").json()["scenes"]
    spec = srv.http.get("/openapi.json").json()
    assert {"/api/sessions", "/api/sessions/{sid}/state", "/api/sessions/{sid}/video.mp4"} <= set(spec["paths"])
    proto = srv.http.get("/api/protocol.json").json()
    assert set(proto["client_to_server"]) == {"auth", "action", "pose", "rewind", "cancel", "view", "stream", "ping"}
    assert {"narration", "plan", "state", "frame", "error"} <= set(proto["server_to_client"])
    assert srv.http.get("/docs").status_code == 404  # Swagger UI would load from a CDN


@pytest.mark.parametrize("name, status", [
    ("../scenes/ball-off-table", 400), ("ball-off-table.yaml", 400), ("/etc/passwd", 400),
    ("BALL-OFF-TABLE", 400), ("..", 400), ("", 400), ("no-such-scene", 404),
])
def test_create_refuses_anything_but_a_scene_name(srv, name, status):
    r = srv.http.post("/api/sessions", json={"scene": name}, headers=srv.admin())
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["field"] == "scene" and "ball-off-table" in err["message"]  # names the fix: real scene names


def test_create_and_list_need_the_server_key(srv, sess):
    assert srv.http.post("/api/sessions", json={"scene": "ball-off-table"}).status_code == 401
    r = srv.http.post("/api/sessions", json={"scene": "ball-off-table"}, headers=bearer(sess["player_token"]))
    assert r.status_code == 403 and "server key" in r.json()["error"]["message"]
    assert srv.http.get("/api/sessions", headers=bearer("wrong")).status_code == 403
    r = srv.http.post("/api/sessions", json={"scenery": "x"}, headers=srv.admin())
    assert r.status_code == 422 and r.json()["error"]["field"] == "body.scene"
    listing = srv.http.get("/api/sessions", headers=srv.admin())
    assert sess["session"] in {s["session"] for s in listing.json()["sessions"]}
    assert sess["player_token"] not in listing.text and sess["spectator_token"] not in listing.text


def test_state_needs_this_sessions_token(srv, sess):
    other = srv.create("box-drop")
    try:
        url = f"/api/sessions/{sess['session']}/state"
        for token, role in ((sess["player_token"], "player"), (sess["spectator_token"], "spectator")):
            r = srv.http.get(url, headers=bearer(token))
            assert r.status_code == 200 and r.json()["role"] == role
            assert "ball" in r.json()["state"]["entities"]
        assert srv.http.get(url).status_code == 401
        for token in (other["player_token"], other["spectator_token"], "x" * 32):
            assert srv.http.get(url, headers=bearer(token)).status_code == 403
        r = srv.http.get("/api/sessions/nope/state", headers=bearer(sess["player_token"]))
        assert r.status_code == 403
    finally:
        srv.http.delete(f"/api/sessions/{other['session']}", headers=bearer(other["player_token"]))


def test_delete_needs_player_token(srv):
    s = srv.create()
    url = f"/api/sessions/{s['session']}"
    assert srv.http.delete(url, headers=bearer(s["spectator_token"])).status_code == 403
    assert srv.http.delete(url, headers=bearer(s["player_token"])).status_code == 204
    assert srv.http.get(url + "/state", headers=bearer(s["player_token"])).status_code == 403


# ---- WebSocket flows --------------------------------------------------------------------------


def test_turn_narrates_streams_frames_and_rewinds(srv, sess):
    ws, token = ws_open(srv, sess)
    with ws:
        hello = auth(ws, token)
        assert hello["role"] == "player" and hello["scene"] == "ball-off-table"
        start = recv_json(ws, "state")["state"]["entities"]["ball"]["position"]
        header, first = recv_frame(ws)
        assert (header.width, header.height, header.stereo) == (320, 240, False)
        assert jpeg(first).shape == (240, 320, 3)
        ws.send(json.dumps({"type": "action", "action": "flick the ball", "events": FLICK, "duration": 0.5}))
        assert recv_json(ws, "narration")["text"] == "flick the ball"
        assert recv_json(ws, "plan")["plan"]["events"][0]["entity"] == "ball"
        header, _ = recv_frame(ws, where=lambda h: h.turn)
        assert header.step == 1
        deadline = time.monotonic() + 10
        while True:  # states supersede each other: wait for the one after the turn
            st = recv_json(ws, "state", timeout=deadline - time.monotonic())
            if st["steps"] == 1 and not st["busy"]:
                break
        moved = st["state"]["entities"]["ball"]["position"]
        assert moved[0] > start[0] + 0.05

        video = srv.http.get(f"/api/sessions/{sess['session']}/video.mp4", headers=bearer(sess["spectator_token"]))
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert int(video.headers["x-frame-count"]) == 12  # the recorded turn: 0.5 s at 24 fps
        import imageio.v3 as iio

        assert iio.imread(video.content, extension=".mp4", index=None).shape[0] == 12

        ws.send(json.dumps({"type": "rewind", "step": 0}))
        st = recv_json(ws, "state")
        assert st["steps"] == 0 and st["state"]["entities"]["ball"]["position"] == start
        video = srv.http.get(f"/api/sessions/{sess['session']}/video.mp4", headers=bearer(sess["spectator_token"]))
        assert video.status_code == 409 and video.json()["error"]["code"] == "no_turns"  # rewound: no turns left
        ws.send(json.dumps({"type": "rewind", "step": 3}))
        err = recv_json(ws, "error")
        assert err["code"] == "bad_step" and err["field"] == "step" and "0 to 0" in err["message"]


def test_head_pose_changes_the_view_and_renders_stereo(srv, sess):
    ws, token = ws_open(srv, sess)
    with ws:
        hello = auth(ws, token)
        half = hello["home_pitch"] / 2
        home = [np.sin(half), 0.0, 0.0, np.cos(half)]
        turned = [0.0, np.sin(0.3), 0.0, np.cos(0.3)]  # 34° to the left, level
        ws.send(json.dumps({"type": "pose", "orientation": home, "ipd": 0.064, "stereo": True}))
        h1, a = recv_frame(ws, where=lambda h: h.pose is not None and h.stereo)
        assert (h1.width, h1.height) == (640, 240) and h1.pose.ipd == pytest.approx(0.064)
        left, right = jpeg(a)[:, :320], jpeg(a)[:, 320:]
        assert 1.0 < np.abs(left - right).mean()  # the eyes differ (parallax), but only a little
        ws.send(json.dumps({"type": "pose", "orientation": turned, "stereo": True}))
        h2, b = recv_frame(ws, where=lambda h: h.pose is not None and h.pose.orientation[1] > 0.1)
        assert h2.pose.orientation[1] == pytest.approx(np.sin(0.3))
        assert np.abs(jpeg(a) - jpeg(b)).mean() > 8  # a different view
    # the scene camera and the home pose are the same view
    ws, token = ws_open(srv, sess)
    with ws:
        auth(ws, token)
        ws.send(json.dumps({"type": "pose", "orientation": home, "stereo": False}))
        _, mono_home = recv_frame(ws, where=lambda h: h.pose is not None and not h.stereo)
    from renderer.geometry import GeometryRenderer
    from simulator import World, load_scene
    from tests.conftest import SCENES

    scene = load_scene(SCENES / "ball-off-table.yaml")
    with GeometryRenderer(scene, preset="fast") as g:
        reference = g.render(World(scene)).rgb.astype(np.int16)
    assert np.abs(jpeg(mono_home) - reference).mean() < 3


def test_spectators_watch_but_cannot_act(srv, sess):
    player, ptoken = ws_open(srv, sess)
    spect, stoken = ws_open(srv, sess, sess["spectator_token"])
    with player, spect:
        auth(player, ptoken)
        assert auth(spect, stoken)["role"] == "spectator"
        for msg in ({"type": "action", "action": "x"}, {"type": "pose"}, {"type": "rewind", "step": 0}):
            spect.send(json.dumps(msg))
            err = recv_json(spect, "error")
            assert err["code"] == "forbidden" and "player token" in err["message"]
        player.send(json.dumps({"type": "action", "action": "flick", "events": FLICK, "duration": 0.2}))
        assert recv_json(spect, "narration")["text"] == "flick"
        header, _ = recv_frame(spect, where=lambda h: h.turn)
        assert header.step == 1


@pytest.mark.parametrize("first", [
    {"type": "auth", "token": "not-a-token"}, {"type": "ping"}, "hello", {"type": "auth"},
])
def test_sockets_without_a_good_token_are_refused(srv, sess, first):
    ws, _ = ws_open(srv, sess)
    with ws:
        ws.send(first if isinstance(first, str) else json.dumps(first))
        err = json.loads(ws.recv(timeout=5))
        assert err["type"] == "error" and err["code"] in ("unauthorized", "bad_json", "bad_message")
        with pytest.raises(Exception) as closed:
            ws.recv(timeout=5)
        assert getattr(closed.value, "rcvd", None) is None or closed.value.rcvd.code == 4401


def test_one_sessions_token_never_opens_another(srv, sess):
    other = srv.create("box-drop")
    try:
        for token in (other["player_token"], other["spectator_token"]):
            with connect(srv.ws_base + sess["ws_url"]) as ws:
                ws.send(json.dumps({"type": "auth", "token": token}))
                assert json.loads(ws.recv(timeout=5))["code"] == "unauthorized"
        with connect(srv.ws_base + "/ws/0000000000000000") as ws:
            ws.send(json.dumps({"type": "auth", "token": sess["player_token"]}))
            assert json.loads(ws.recv(timeout=5))["code"] == "unauthorized"
    finally:
        srv.http.delete(f"/api/sessions/{other['session']}", headers=srv.admin())


def test_malformed_messages_get_errors_and_the_socket_lives_on(srv, sess):
    ws, token = ws_open(srv, sess)
    with ws:
        auth(ws, token)
        cases = [
            ("{not json", "bad_json", None),
            ("[1, 2]", "bad_message", None),
            (json.dumps({"type": "teleport"}), "bad_message", "type"),
            (json.dumps({"type": "action"}), "bad_message", "action"),
            (json.dumps({"type": "action", "action": "x", "duration": 99}), "bad_message", "duration"),
            (json.dumps({"type": "action", "action": "x", "bogus": 1}), "bad_message", "bogus"),
            (json.dumps({"type": "pose", "orientation": [0, 0, 0]}), "bad_message", "orientation"),
            (json.dumps({"type": "pose", "position": [1e308 * 10, 0, 0]}), "bad_json", None),  # Infinity
            (json.dumps({"type": "pose", "ipd": -1}), "bad_message", "ipd"),
            (json.dumps({"type": "rewind", "step": "last"}), "bad_message", "step"),
            (json.dumps({"type": "action", "action": "x", "events": [
                {"type": "apply_impulse", "entity": "unicorn", "impulse": [1, 0, 0]}]}), "bad_events", "events"),
            (json.dumps({"type": "auth", "token": token}), "bad_message", "type"),
        ]
        for text, code, field in cases:
            ws.send(text)
            err = recv_json(ws, "error")
            assert err["code"] == code, (text, err)
            assert err["field"] == field or (field and field in (err["field"] or "")), (text, err)
            assert "Traceback" not in err["message"]
        ws.send(b"\x00\x01binary")
        assert "binary" in recv_json(ws, "error")["message"]
        ws.send(json.dumps({"type": "ping", "t": 42}))
        assert recv_json(ws, "pong")["t"] == 42
    state = srv.http.get(f"/api/sessions/{sess['session']}/state", headers=bearer(token)).json()
    assert state["steps"] == 0  # nothing above changed the world


def test_size_and_rate_limits(srv, sess):
    ws, token = ws_open(srv, sess)
    with ws:
        hello = auth(ws, token)
        ws.send(json.dumps({"type": "action", "action": "x" * 20000}))
        err = recv_json(ws, "error")
        assert err["code"] == "too_large" and "16384" in err["message"]
        n = int(hello["limits"]["burst"]) + 200
        for i in range(n):
            ws.send(json.dumps({"type": "ping", "t": i}))
        err = recv_json(ws, "error")
        assert err["code"] == "rate_limited"
        time.sleep(0.5)
        pongs = 0
        while True:
            try:
                data = ws.recv(timeout=1.0)
            except TimeoutError:
                break
            pongs += isinstance(data, str) and json.loads(data)["type"] == "pong"
        assert pongs < n - 100  # dropped, not queued
        ws.send(json.dumps({"type": "ping", "t": -1}))
        assert recv_json(ws, "pong")["t"] == -1  # and the socket still works


def test_a_full_turn_queue_answers_busy(srv, sess):
    ws, token = ws_open(srv, sess)
    with ws:
        auth(ws, token)
        for _ in range(4):
            ws.send(json.dumps({"type": "action", "action": "wait", "duration": 2.0}))
        err = recv_json(ws, "error")
        assert err["code"] == "busy" and "state" in err["message"]


def test_a_stalled_client_never_stalls_the_others():
    """Look around fast while another client never reads: once the kernel's buffers for the stalled
    socket are full, it gets only the newest frames, and the live client keeps its rate."""
    with live_server(size=(640, 480)) as srv:  # big frames fill the socket buffers sooner
        _stall(srv, srv.create())


def _stall(srv, sess):
    from server.streaming import MAX_PENDING_MESSAGES

    session = srv.app.state.manager.get(sess["session"])
    stalled = stalled_client(srv.port, sess["ws_url"], sess["spectator_token"])
    ws, token = ws_open(srv, sess)
    with ws:
        auth(ws, token)
        slow = None
        yaw, t0 = 0.0, time.monotonic()
        frames = measured_from = None
        while time.monotonic() - t0 < 20:
            yaw += 0.02
            ws.send(json.dumps({"type": "pose", "orientation": [0, np.sin(yaw), 0, np.cos(yaw)], "stereo": True}))
            try:
                data = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            slow = slow or next((c for c in session.broadcaster.clients if c.role == "spectator"), None)
            if frames is None and slow is not None and slow.stats.frames_dropped > 0:
                frames, measured_from, sent_before = 0, time.monotonic(), slow.stats.frames_sent
            if frames is not None:
                frames += isinstance(data, bytes)
                if time.monotonic() - measured_from > 2.0:
                    break
        assert frames is not None, f"the stalled client never fell behind: {slow and slow.stats}"
        assert frames >= 30, f"the live client got only {frames} frames in 2 s beside a stalled one"
        print(f"stall after {measured_from - t0:.1f} s; live client {frames / 2:.0f} frames/s")
        assert slow.stats.frames_sent - sent_before <= 2 and slow.stats.frames_dropped > 10, slow.stats
        assert len(slow.messages) <= MAX_PENDING_MESSAGES  # one frame slot, a bounded message queue
    stalled.close()


# ---- sessions are saved: restart, reopen ------------------------------------------------------


def _settled_state(ws, steps: int) -> dict:
    deadline = time.monotonic() + 15
    while True:  # states supersede each other: wait for the one after the turn or rewind
        st = recv_json(ws, "state", timeout=deadline - time.monotonic())
        if st["steps"] == steps and not st["busy"]:
            return st


def test_a_session_survives_a_server_restart(tmp_path):
    from agent.turns.replay import replay
    from agent.turns.sessions import SessionDB

    db = tmp_path / "sessions.db"
    with live_server(db=db) as srv:
        r = srv.http.post("/api/sessions", json={"scene": "ball-off-table", "name": "kept"}, headers=srv.admin())
        assert r.status_code == 201, r.text
        old = r.json()
        assert old["session"] == "kept"
        again = srv.http.post("/api/sessions", json={"scene": "ball-off-table", "name": "kept"}, headers=srv.admin())
        assert again.status_code == 409 and "/api/sessions/kept/open" in again.json()["error"]["message"]
        bad = srv.http.post("/api/sessions", json={"scene": "ball-off-table", "name": "../x"}, headers=srv.admin())
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "name"
        with connect(srv.ws_base + old["ws_url"]) as ws:
            auth(ws, old["player_token"])
            ws.send(json.dumps({"type": "action", "action": "flick", "events": FLICK, "duration": 0.5}))
            _settled_state(ws, 1)
        before = srv.http.get("/api/sessions/kept/state", headers=bearer(old["player_token"])).json()
        assert before["steps"] == 1 and len(before["snapshot_sha"]) == 64

    with live_server(db=db) as srv:
        listing = srv.http.get("/api/sessions", headers=srv.admin()).json()
        assert listing["sessions"] == []
        assert {"session": "kept", "scene": "ball-off-table", "step": 1, "open": False}.items() <= \
            next(s for s in listing["saved"] if s["session"] == "kept").items()
        for token in (old["player_token"], old["spectator_token"]):  # tokens die with the server
            assert srv.http.get("/api/sessions/kept/state", headers=bearer(token)).status_code == 403
            assert srv.http.post("/api/sessions/kept/open", headers=bearer(token)).status_code == 403
        missing = srv.http.post("/api/sessions/nope/open", headers=srv.admin())
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

        r = srv.http.post("/api/sessions/kept/open", headers=srv.admin())
        assert r.status_code == 200, r.text
        new = r.json()
        assert new["session"] == "kept" and {new["player_token"], new["spectator_token"]}.isdisjoint(
            {old["player_token"], old["spectator_token"]})
        assert srv.http.post("/api/sessions/kept/open", headers=srv.admin()).json()["error"]["code"] == "already_open"
        after = srv.http.get("/api/sessions/kept/state", headers=bearer(new["spectator_token"])).json()
        assert after["snapshot_sha"] == before["snapshot_sha"] and after["state"] == before["state"]

        with connect(srv.ws_base + new["ws_url"]) as ws:
            assert auth(ws, new["player_token"])["step"] == 1
            ws.send(json.dumps({"type": "action", "action": "wait", "duration": 0.25}))
            _settled_state(ws, 2)
            ws.send(json.dumps({"type": "rewind", "step": 1}))
            st = _settled_state(ws, 1)
        assert st["state"] == before["state"]
        assert srv.http.get("/api/sessions/kept/state", headers=bearer(new["player_token"])).json()[
            "snapshot_sha"] == before["snapshot_sha"]

    raw = db.read_bytes()
    for token in (old["player_token"], old["spectator_token"], new["player_token"], new["spectator_token"]):
        assert token.encode() not in raw  # tokens are never written down
    with SessionDB(db, create=False) as d:
        assert [t.action for t in d.turns("kept")] == ["flick"]
        assert replay(d, "kept").identical  # what the server recorded replays bit for bit


class SlowPlanner:
    """A stand-in model that thinks for a while, then flicks the ball."""

    def __init__(self, seconds: float):
        self.seconds, self.calls = seconds, []

    def plan_turn(self, state, action, history, *, camera=None, imagination=None):
        from agent.planner import PlannedTurn, PlanRecord, TurnPlan

        time.sleep(self.seconds)
        self.calls.append(action)
        plan = TurnPlan(narration=f"planned: {action}", events=FLICK, caption="a ball rolls")
        return PlannedTurn(plan=plan, record=PlanRecord(model="slow", action=action))


def test_the_view_stays_live_while_the_planner_thinks():
    planner = SlowPlanner(1.5)
    with live_server(planner=planner) as srv:
        sess = srv.create()
        with connect(srv.ws_base + sess["ws_url"]) as ws:
            auth(ws, sess["player_token"])
            start = recv_json(ws, "state")["state"]["entities"]["ball"]["position"]
            ws.send(json.dumps({"type": "action", "action": "nudge it", "duration": 0.5}))
            assert recv_json(ws, "state")["busy"]
            t0 = time.monotonic()
            yaws = [0.1, 0.2, 0.3]
            for yaw in yaws:  # look around while the planner thinks: each pose gets its own frame
                ws.send(json.dumps({"type": "pose", "orientation": [0, np.sin(yaw), 0, np.cos(yaw)], "stereo": False}))
                header, _ = recv_frame(ws, where=lambda h, y=yaw: h.pose is not None
                                       and h.pose.orientation[1] > np.sin(y) - 1e-6)
                assert not header.turn and header.step == 0
            assert time.monotonic() - t0 < 1.2 and not planner.calls  # all of that before the plan came back
            assert recv_json(ws, "narration")["text"] == "planned: nudge it"
            header, _ = recv_frame(ws, where=lambda h: h.turn)
            assert header.step == 1 and header.pose.orientation[1] == pytest.approx(np.sin(0.3))
            st = _settled_state(ws, 1)
        assert st["state"]["entities"]["ball"]["position"][0] > start[0] + 0.05
        assert planner.calls == ["nudge it"]
        turn = srv.app.state.manager.db.turns(sess["session"])[0]
        assert turn.plan_record.model == "slow" and not turn.pinned
