"""Turn progress, Stop, undo messages, turn history and depth/segmentation views, over real sockets."""

from __future__ import annotations

import inspect
import io
import json
import math
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from PIL import Image  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from server.protocol import unpack_frame  # noqa: E402
from tests.server_util import auth, live_server, recv_frame, recv_json  # noqa: E402

FLICK = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.3, 0, 0]}]


@pytest.fixture(scope="module")
def srv():
    with live_server() as s:
        yield s


@contextmanager
def player(srv, scene: str = "ball-off-table"):
    """A new session, and its player's socket (authenticated) with the hello message."""
    sess = srv.create(scene)
    with connect(srv.ws_base + sess["ws_url"], open_timeout=10) as ws:
        yield sess, ws, auth(ws, sess["player_token"])


def messages_until(ws, stop, timeout: float = 20.0) -> list[dict]:
    """JSON messages (frames skipped) up to and including the first for which stop(msg) is true."""
    out, deadline = [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {[m['type'] for m in out]}"
        data = ws.recv(timeout=left)
        if isinstance(data, str):
            out.append(json.loads(data))
            if stop(out[-1]):
                return out


def turn_over(m: dict) -> bool:
    return m["type"] == "progress" and m["stage"] in ("done", "cancelled", "failed")


def steps_now(srv, sess) -> dict:
    r = srv.http.get(f"/api/sessions/{sess['session']}/state",
                     headers={"Authorization": f"Bearer {sess['spectator_token']}"})
    return r.json()


def test_a_turn_reports_every_stage_with_growing_elapsed_time(srv):
    with player(srv) as (sess, ws, hello):
        assert "flicked" in hello["description"] and hello["history"] == [] and hello["view"] == "rgb"
        ws.send(json.dumps({"type": "action", "action": "flick the ball", "events": FLICK, "duration": 0.5}))
        got = [m for m in messages_until(ws, turn_over) if m["type"] == "progress"]
        assert [m["stage"] for m in got] == ["plan", "validate", "simulate", "reconcile", "render", "commit", "play", "done"]
        assert {m["step"] for m in got} == {1} and {m["action"] for m in got} == {"flick the ball"}
        elapsed = [m["elapsed"] for m in got]
        assert elapsed == sorted(elapsed) and elapsed[-1] >= 0.45  # playback runs at real time: 0.5 s
    with connect(srv.ws_base + sess["ws_url"]) as again:  # a client that joins later gets the history
        hello = auth(again, sess["spectator_token"])
        assert [(t["step"], t["action"]) for t in hello["history"]] == [(1, "flick the ball")]


def test_stop_during_playback_commits_nothing(srv):
    with player(srv) as (sess, ws, _):
        start = recv_json(ws, "state")["state"]["entities"]["ball"]["position"]
        ws.send(json.dumps({"type": "action", "action": "flick hard", "events": FLICK, "duration": 4.0}))
        messages_until(ws, lambda m: m["type"] == "progress" and m["stage"] == "play")
        recv_frame(ws, where=lambda h: h.turn)
        t0 = time.monotonic()
        ws.send(json.dumps({"type": "cancel"}))
        got = messages_until(ws, turn_over)
        assert got[-1]["stage"] == "cancelled" and time.monotonic() - t0 < 2.0  # well before the 4 s playback ends
        state = messages_until(ws, lambda m: m["type"] == "state" and not m["busy"])[-1]
        assert state["steps"] == 0 and state["state"]["entities"]["ball"]["position"] == start
    body = steps_now(srv, sess)
    assert body["steps"] == 0 and not body["busy"]
    assert srv.app.state.manager.db.turns(sess["session"]) == []


def test_cancel_with_no_turn_running_says_so(srv):
    with player(srv) as (_, ws, _):
        ws.send(json.dumps({"type": "cancel"}))
        err = recv_json(ws, "error")
        assert err["code"] == "not_running" and "nothing to stop" in err["message"]


def test_undo_says_which_turns_it_took_back(srv):
    with player(srv) as (sess, ws, _):
        for text in ("first flick", "second flick"):
            ws.send(json.dumps({"type": "action", "action": text, "events": FLICK, "duration": 0.25}))
            messages_until(ws, turn_over)
        ws.send(json.dumps({"type": "rewind", "step": 0}))
        msg = recv_json(ws, "rewound")
        assert (msg["step"], msg["from_step"], msg["time"]) == (0, 2, 0.0)
        assert msg["dropped"] == ["first flick", "second flick"]
    with connect(srv.ws_base + sess["ws_url"]) as again:
        assert auth(again, sess["player_token"])["history"] == []


class SlowPlanner:
    """A stand-in for a model that takes `seconds` to answer; records the actions it was asked."""

    def __init__(self, seconds: float):
        self.seconds, self.calls, self.finished = seconds, [], threading.Event()

    def plan_turn(self, state, action, history, *, camera=None, imagination=None):
        from agent.planner import PlannedTurn, PlanRecord, TurnPlan

        self.calls.append(action)
        time.sleep(self.seconds)
        self.finished.set()
        plan = TurnPlan(narration=f"planned: {action}", events=FLICK, caption="a ball rolls")
        return PlannedTurn(plan=plan, record=PlanRecord(model="slow", action=action))


def test_stop_while_the_planner_thinks_drops_its_answer():
    planner = SlowPlanner(2.5)
    with live_server(planner=planner) as srv:
        with player(srv) as (sess, ws, _):
            ws.send(json.dumps({"type": "action", "action": "nudge it", "duration": 0.5}))
            stage = messages_until(ws, lambda m: m["type"] == "progress")[-1]
            assert stage["stage"] == "plan"
            ws.send(json.dumps({"type": "cancel"}))
            got = messages_until(ws, turn_over, timeout=2.0)  # long before the planner answers
            assert got[-1]["stage"] == "cancelled" and not planner.finished.is_set()
            assert not any(m["type"] == "narration" for m in got)
            assert planner.finished.wait(5)
            time.sleep(0.3)
            assert steps_now(srv, sess)["steps"] == 0  # its late answer was dropped
            ws.send(json.dumps({"type": "action", "action": "again", "duration": 0.25}))  # and the next turn runs
            got = messages_until(ws, turn_over, timeout=15)
            assert got[-1]["stage"] == "done"
            assert [m["text"] for m in got if m["type"] == "narration"] == ["planned: again"]
        assert [t.action for t in srv.app.state.manager.db.turns(sess["session"])] == ["again"]


def jpeg(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_views_render_depth_as_grey_and_segments_in_legend_colours(srv):
    with player(srv) as (_, ws, _):
        header, data = recv_frame(ws)
        rgb = jpeg(data)
        assert header.view == "rgb" and header.legend is None
        ws.send(json.dumps({"type": "view", "mode": "depth"}))
        header, data = recv_frame(ws, where=lambda h: h.view == "depth")
        depth = jpeg(data)
        near, far = header.depth_range
        assert 0 < near < far
        assert np.abs(depth[..., 0] - depth[..., 1]).max() <= 12 and np.abs(depth[..., 1] - depth[..., 2]).max() <= 12
        assert depth[:20].mean() < 10  # the sky: nothing hit, black
        assert depth[-20:].mean() > depth[100:140].mean()  # the floor nearest the camera is brightest
        ws.send(json.dumps({"type": "view", "mode": "segmentation"}))
        header, data = recv_frame(ws, where=lambda h: h.view == "segmentation")
        seg = jpeg(data)
        assert {"ball", "table", "ground"} <= set(header.legend)
        ball = np.array([int(header.legend["ball"][i:i + 2], 16) for i in (1, 3, 5)])
        red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)  # the red ball in the colour view
        assert red.sum() > 30
        assert np.abs(np.median(seg[red], axis=0) - ball).max() <= 12
        ws.send(json.dumps({"type": "view", "mode": "rgb"}))
        header, data = recv_frame(ws, where=lambda h: h.view == "rgb")
        assert np.abs(jpeg(data) - rgb).mean() < 3


def test_a_session_streams_at_the_size_it_was_created_with(srv):
    r = srv.http.post("/api/sessions", json={"scene": "ball-off-table", "width": 480, "height": 360},
                      headers=srv.admin())
    assert r.status_code == 201, r.text
    sess = r.json()
    with connect(srv.ws_base + sess["ws_url"]) as ws:
        hello = auth(ws, sess["player_token"])
        assert (hello["width"], hello["height"]) == (480, 360)
        header, data = recv_frame(ws)
        assert jpeg(data).shape == (360, 480, 3)
    bad = srv.http.post("/api/sessions", json={"scene": "ball-off-table", "width": 5000, "height": 360},
                        headers=srv.admin())
    assert bad.status_code == 422 and bad.json()["error"]["field"].endswith("width")
    assert "1920" in bad.json()["error"]["message"]


def _yaw_pitch(yaw: float, pitch: float) -> list[float]:
    """The web page's quatYawPitch: the orientation the desktop page sends."""
    cy, sy, cp, sp = math.cos(yaw / 2), math.sin(yaw / 2), math.cos(pitch / 2), math.sin(pitch / 2)
    return [cy * sp, sy * cp, -sy * sp, cy * cp]


def test_a_served_turn_renders_each_frame_once_and_again_only_for_a_moved_head(srv, monkeypatch):
    from renderer.geometry import GeometryRenderer

    calls: list[str] = []
    render = GeometryRenderer.render

    def counting(self, *args, **kwargs):
        names = {f.function for f in inspect.stack(0)[1:12]}
        calls.append("playback" if "_play" in names else "render node" if "render" in names else "look around")
        return render(self, *args, **kwargs)

    monkeypatch.setattr(GeometryRenderer, "render", counting)
    db = srv.app.state.manager.db
    with player(srv) as (sess, ws, hello):
        recv_frame(ws)
        home = {"type": "pose", "position": [0, 0, 0], "orientation": _yaw_pitch(0, hello["home_pitch"]),
                "stereo": False}
        moved = {**home, "position": [0.1, 0, 0], "orientation": _yaw_pitch(0.3, hello["home_pitch"])}
        for pose, again in ((None, False), (home, False), (moved, True)):
            if pose is not None:
                ws.send(json.dumps(pose))
                recv_frame(ws, where=lambda h: h.pose is not None and not h.turn)
            calls.clear()
            ws.send(json.dumps({"type": "action", "action": "flick", "events": FLICK, "duration": 0.5}))
            shown = []  # (world time, image) of each turn frame that reached us (a slow client may miss some)
            while True:
                data = ws.recv(timeout=20)
                if isinstance(data, bytes):
                    header, jpeg = unpack_frame(data)
                    if header.turn:
                        shown.append((header.time, np.asarray(Image.open(io.BytesIO(jpeg))).astype(float)))
                elif turn_over(msg := json.loads(data)):
                    assert msg["stage"] == "done"
                    break
            assert calls.count("render node") == 12  # 0.5 s at 24 fps, each frame rendered once by the turn
            assert calls.count("playback") == (12 if again else 0), (pose, calls)
            turn = db.turns(sess["session"])[-1]
            times = [json.loads(line)["time"] for line in db.store.get_text(turn.states).splitlines()]
            stored = db.store.get_json(turn.segment)["frames"]
            assert shown
            for t, image in shown:  # the turn's own frame (as JPEG), or the view from the moved head
                k = int(np.argmin(np.abs(np.subtract(times, t))))
                assert abs(times[k] - t) < 1e-6
                off = np.abs(image - db.store.get_png(stored[k])).mean()
                assert (off > 8.0) if again else (off < 3.0), (pose, t, off)
