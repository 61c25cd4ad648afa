"""`callosum serve --video-model`: the right brain in the headset, end to end through a tiny real
diffusers pipeline (random weights, saved to disk and loaded back) and a real server socket.

A served turn's frames are the video model's, each sent as the scene camera's one eye with the
geometry pass's depth (so a headset reprojects it with its own head motion); the world at rest keeps
the last generated frame; one loaded model serves several sessions at once, each with its own chain."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from renderer.video import Anchor, load_video_renderer  # noqa: E402
from renderer.video.tiny import synthetic_geometry  # noqa: E402
from server.protocol import unpack_depth, unpack_frame  # noqa: E402
from tests.browser_util import BALL_DROP, red_mask  # noqa: E402
from tests.conftest import ROOT, SCENES  # noqa: E402
from tests.server_util import auth, live_server, recv_json, recv_raw  # noqa: E402

VIDEO_SIZE = (96, 64)
"""The video model's output size: not the stream's (320x240), so its frames are told apart by size too."""
DURATION = 0.5
PUSH = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.05, 0, 0]}]



@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes")
    (folder / "ball-drop.yaml").write_text(BALL_DROP)
    return folder


def headset_pose(x: float = 0.0) -> dict:
    tan = [-1.0, 1.0, -0.8, 0.8]
    views = [{"position": [x + dx, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0, 1.0], "tangents": tan}
             for dx in (-0.032, 0.032)]
    return {"type": "pose", "position": [x, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0, 1.0], "views": views,
            "viewport": [160, 128]}


def play_turn(ws, action: str = "the ball is pushed") -> tuple[list, list]:
    """Send a pinned turn and read until it is done: (turn frames as raw messages, JSON messages)."""
    ws.send(json.dumps({"type": "action", "action": action, "events": PUSH, "duration": DURATION}))
    frames, messages, deadline = [], [], time.monotonic() + 120
    while True:
        data = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(data, bytes):
            if unpack_frame(data)[0].turn:
                frames.append(data)
            continue
        msg = json.loads(data)
        messages.append(msg)
        if msg["type"] == "progress" and msg["stage"] in ("done", "failed", "cancelled"):
            assert msg["stage"] == "done", messages
            return frames, messages


def jpeg(image: np.ndarray) -> bytes:
    """`image` as the server encodes it for a JPEG client (PIL, quality 80): the same bytes for the same pixels."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def turn_frames(srv, sid: str) -> tuple[list, list]:
    """The served session's last turn as it was recorded: (generated frames, geometry frames)."""
    served = srv.app.state.manager.get(sid)
    record = served.db.turns(sid)[-1]
    episode = served.session.episode
    return episode.frames(record), episode.frames(record, geometry=True)


def test_a_fork_keeps_its_own_chain_and_forks_share_the_pipeline_safely(tiny_ltx):
    """Two sessions' copies of one loaded renderer, rendering on two threads at once, give exactly the
    frames each gives alone: own seed and chain each, and the pipeline calls take turns."""
    base = load_video_renderer(tiny_ltx, steps=2, size=(32, 32))
    geometry = [synthetic_geometry(5, 0), synthetic_geometry(5, 5)]

    def run(renderer, seed: int) -> list:
        renderer.start(seed, 24)
        first = renderer.render_segment("segment 0", geometry[0], step=0).frames
        anchor = Anchor(frame=first[-1], geometry=geometry[0][-1])
        return [first, renderer.render_segment("segment 1", geometry[1], step=1, anchor=anchor).frames]

    alone = {seed: run(base.for_session(), seed) for seed in (1, 2)}
    together: dict = {}
    forks = {seed: base.for_session() for seed in (1, 2)}
    assert forks[1].pipe is forks[2].pipe is base.pipe and forks[1].pipe_lock is base.pipe_lock
    threads = [threading.Thread(target=lambda s=seed: together.__setitem__(s, run(forks[s], s))) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for seed in (1, 2):
        assert all(np.array_equal(a, b) for x, y in zip(alone[seed], together[seed]) for a, b in zip(x, y))
    assert not np.array_equal(alone[1][0][0], alone[2][0][0])  # the seeds differ, so does the look
    assert base.records == [] and base.seed is None  # the loaded one is never driven itself


def test_a_served_turn_sends_the_video_models_frames_with_depth_to_the_headset(tiny_ltx, scenes):
    video = load_video_renderer(tiny_ltx, steps=2, size=VIDEO_SIZE)
    with live_server(scenes_dir=scenes, video=video) as srv:
        sess = srv.create("ball-drop")
        with connect(srv.ws_base + sess["ws_url"]) as ws:
            auth(ws, sess["player_token"])
            ws.send(json.dumps(headset_pose()))
            before = recv_raw(ws, lambda h: h.eyes is not None and len(h.eyes) == 2)
            frames, messages = play_turn(ws)
            generated, geometry = turn_frames(srv, sess["session"])
            ws.send(json.dumps(headset_pose(x=0.05)))  # the head moves after the turn
            rest = recv_raw(ws, lambda h: not h.turn and h.step == 1)
            for x in (0.06, 0.07):  # more head moves: the client has the held frame, nothing is sent again
                ws.send(json.dumps(headset_pose(x=x)))
            with pytest.raises(TimeoutError):
                ws.recv(timeout=1.5)
        count = srv.http.get(f"/api/sessions/{sess['session']}/video.mp4",
                             headers={"Authorization": f"Bearer {sess['spectator_token']}"}).headers["X-Frame-Count"]
    header0 = unpack_frame(before)[0]
    assert not header0.generated and len(header0.eyes) == 2  # before any turn: the geometry pass, per eye
    assert len(frames) == len(generated) == int(count) == round(DURATION * 24)
    assert not any(np.array_equal(g, r) for g, r in zip(generated, geometry))
    for data, image in zip(frames, generated):
        header = unpack_frame(data)[0]
        assert header.generated and not header.stereo and (header.width, header.height) == VIDEO_SIZE
        assert len(header.eyes) == 1 and header.eyes[0].tangents[3] == pytest.approx(math.tan(math.radians(22.5)))
        assert unpack_frame(data)[1] == jpeg(image)  # the video model's frame itself, not a re-render
        _, depth = unpack_depth(data)
        assert depth.shape == (240 // header.depth.step, 320 // header.depth.step)  # the scene camera's, exact
        assert np.isinf(depth[0]).all() and 2.0 < np.nanmedian(np.where(np.isinf(depth), np.nan, depth)) < 6.0
    assert red_mask(geometry[-1].astype(np.int16)).sum() > 20 > red_mask(generated[-1].astype(np.int16)).sum()
    header = unpack_frame(rest)[0]  # at rest the world keeps the generated look; the head motion is local
    assert header.generated and header.eyes[0].position == (0.0, 0.0, 0.0) and header.depth is not None
    assert unpack_frame(rest)[1] == jpeg(generated[-1])
    assert [m["stage"] for m in messages if m["type"] == "progress"][-2:] == ["play", "done"]



def test_two_sessions_share_one_model_at_once_each_with_its_own_chain(tiny_ltx, scenes):
    """Turns of two sessions render at the same moment on the one loaded model; each session's frames
    equal those of the same session played alone (a shared generator or chain would change them)."""
    video = load_video_renderer(tiny_ltx, steps=2, size=VIDEO_SIZE)
    with live_server(scenes_dir=scenes, video=video, pace=False) as srv:
        alone = srv.create("ball-drop")
        with connect(srv.ws_base + alone["ws_url"]) as ws:
            auth(ws, alone["player_token"])
            play_turn(ws)
            play_turn(ws, "again")
        expected = turn_frames(srv, alone["session"])[0]
        sessions = [srv.create("ball-drop") for _ in range(2)]
        sockets = [connect(srv.ws_base + s["ws_url"]) for s in sessions]
        try:
            for ws, s in zip(sockets, sessions):
                auth(ws, s["player_token"])
            for action in ("the ball is pushed", "again"):
                done = []
                threads = [threading.Thread(target=lambda w=ws: done.append(play_turn(w, action))) for ws in sockets]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(120)
                assert len(done) == 2
        finally:
            for ws in sockets:
                ws.close()
        for s in sessions:
            got = turn_frames(srv, s["session"])[0]
            assert len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected))
        assert srv.app.state.manager.get(alone["session"]).session.ctx.video.renderer is not video


def test_serve_refuses_a_video_model_that_is_not_one(tmp_path):
    args = [sys.executable, "-m", "agent", "serve", "--scenes-dir", str(SCENES), "--db", str(tmp_path / "s.db"),
            "--planner", "scripted"]
    result = subprocess.run([*args, "--video-model", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    message = " ".join(result.stderr.split())
    assert result.returncode == 2 and f"--video-model {str(tmp_path)!r}" in message and "model_index.json" in message
    result = subprocess.run([*args, "--video-model", str(tmp_path), "--video-size", "big"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "--video-size 'big' is not a size" in " ".join(result.stderr.split())


def test_stop_while_the_video_model_renders_commits_nothing_and_the_head_is_answered_meanwhile(tiny_ltx, scenes):
    video = load_video_renderer(tiny_ltx, steps=200, size=VIDEO_SIZE)  # slow on purpose: Stop comes mid-segment
    with live_server(scenes_dir=scenes, video=video) as srv:
        sess = srv.create("ball-drop")
        with connect(srv.ws_base + sess["ws_url"]) as ws:
            auth(ws, sess["player_token"])
            ws.send(json.dumps({"type": "action", "action": "push", "events": PUSH, "duration": DURATION}))
            while recv_json(ws, "progress", timeout=60)["stage"] != "render":
                pass
            time.sleep(0.5)  # the geometry pass is quick; the video model is at work now
            ws.send(json.dumps(headset_pose(x=0.1)))  # the render thread still answers the head
            header = unpack_frame(recv_raw(ws, lambda h: h.eyes is not None and h.eyes[0].position[0] > 0.05))[0]
            assert not header.turn and header.step == 0
            t0 = time.monotonic()
            ws.send(json.dumps({"type": "cancel"}))
            assert recv_json(ws, "progress", timeout=60)["stage"] == "cancelled"
            stopped_in = time.monotonic() - t0
            fork = srv.app.state.manager.get(sess["session"]).session.ctx.video.renderer
            assert recv_json(ws, "state")["steps"] == 0 and fork.records == []
            fork.steps = 2  # the next turn renders quickly, and its segment starts on the geometry pass
            frames, _ = play_turn(ws)
            assert len(frames) == round(DURATION * 24) and all(unpack_frame(f)[0].generated for f in frames)
            assert [(r.step, r.seam_psnr) for r in fork.records] == [(0, None)]  # no anchor, so no seam
    assert stopped_in < 10  # at the next denoising step, not after 200
