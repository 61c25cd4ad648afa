"""The headset path on the server, over a real socket: each eye's frustum and the negotiated size,
the depth plane, pose prediction, and the H.264 stream (decoded here with PyAV's own decoder)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402

from server.protocol import PoseMsg, parse_client, unpack_depth, unpack_frame  # noqa: E402
from server.xr import EYE_CAP, PosePredictor, eye_size, widen  # noqa: E402
from tests.browser_util import BALL_DROP, red_mask  # noqa: E402
from tests.server_util import auth, live_server, recv_raw  # noqa: E402

TAN = (-1.1, 1.0, -1.0, 1.05)


def headset_pose(x: float = 0.0, yaw: float = 0.0, t: float | None = None, latency: float | None = None,
                 viewport=(200, 160)) -> dict:
    q = [0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)]
    views = [{"position": [x + dx, 0.0, 0.0], "orientation": q, "tangents": list(TAN)} for dx in (-0.032, 0.032)]
    msg = {"type": "pose", "position": [x, 0.0, 0.0], "orientation": q, "views": views, "viewport": list(viewport)}
    if t is not None:
        msg["t"] = t
    if latency is not None:
        msg["latency_ms"] = latency
    return msg


def test_eye_size_adds_the_margin_and_keeps_under_the_cap():
    assert eye_size((1000, 800), (0, 0)) == (1152, 920)  # 15 % more, in multiples of 8
    w, h = eye_size((1832, 1920), (0, 0))
    assert (w, h) == (2104, 2208) and w <= EYE_CAP[0] and h <= EYE_CAP[1]
    w, h = eye_size((4000, 4000), (0, 0))
    assert max(w, h) <= EYE_CAP[0] and abs(w - h) <= 8  # scaled down, same shape
    assert widen((-1.0, 1.0, -0.5, 0.5)) == pytest.approx((-1.15, 1.15, -0.575, 0.575))


def test_prediction_extrapolates_the_head_and_is_bounded():
    p = PosePredictor()
    for k in range(5):  # 1 m/s to the right and 2 rad/s to the left, poses every 10 ms
        target = p.predict(PoseMsg.model_validate(headset_pose(x=0.01 * k, yaw=0.02 * k, t=10.0 * k, latency=20.0)),
                           (64, 64))
    left = target.eyes[0]
    assert left.position[0] == pytest.approx(0.04 - 0.032 + 0.02, abs=2e-3)  # 20 ms ahead at 1 m/s
    yaw = 2 * math.atan2(left.orientation[1], left.orientation[3])
    assert yaw == pytest.approx(0.08 + 0.04, abs=1e-3)  # 20 ms ahead at 2 rad/s
    fast = PosePredictor()
    for k in range(3):  # 10 m/s: the prediction stops at 5 cm
        target = fast.predict(PoseMsg.model_validate(headset_pose(x=0.1 * k, t=10.0 * k, latency=100.0)), (64, 64))
    assert target.eyes[0].position[0] - (0.2 - 0.032) == pytest.approx(0.05, abs=1e-6)
    again = fast.predict(PoseMsg.model_validate(headset_pose(x=0.2, t=30.0, latency=100.0)), (64, 64))
    assert again.eyes[0].position[0] == pytest.approx(0.2 - 0.032)  # stopped: no more extrapolation
    still = PosePredictor().predict(PoseMsg.model_validate(headset_pose(x=0.3)), (64, 64))
    assert still.eyes[1].position == pytest.approx((0.332, 0.0, 0.0))
    assert still.eyes[1].tangents == pytest.approx(widen(TAN))


def test_bad_eye_views_are_refused_naming_the_field():
    msg = headset_pose()
    msg["views"][1]["tangents"] = [1.0, -1.0, -1.0, 1.0]
    with pytest.raises(ValueError) as err:
        parse_client(json.dumps(msg))
    assert err.value.error.field == "views.1.tangents" and "left < right" in err.value.error.message
    msg = headset_pose(viewport=(10, 10))
    with pytest.raises(ValueError) as err:
        parse_client(json.dumps(msg))
    assert err.value.error.field == "viewport"



def test_headset_frames_carry_eyes_depth_and_an_h264_stream_that_decodes(tmp_path):
    av = pytest.importorskip("av")
    (tmp_path / "ball-drop.yaml").write_text(BALL_DROP)
    from websockets.sync.client import connect

    with live_server(scenes_dir=tmp_path) as srv:
        session = srv.create("ball-drop")
        with connect(srv.ws_base + session["ws_url"]) as player, \
                connect(srv.ws_base + session["ws_url"]) as watcher:
            auth(player, session["player_token"])
            auth(watcher, session["spectator_token"])
            watcher.send(json.dumps({"type": "stream", "codec": "h264"}))  # a spectator picks its own stream
            player.send(json.dumps({"type": "stream", "codec": "h264", "age_ms": 10.0, "kbps": 1.0}))
            player.send(json.dumps({"type": "stream", "codec": "jpeg"}))  # and back
            player.send(json.dumps(headset_pose(viewport=(200, 160))))
            jpeg_msg = recv_raw(player, lambda h: h.eyes is not None)
            video_msg = recv_raw(watcher, lambda h: h.eyes is not None and h.format == "h264")
    header, jpeg = unpack_frame(jpeg_msg)
    vheader, access_unit = unpack_frame(video_msg)
    assert header.format == "jpeg" and vheader.key and vheader.seq == header.seq
    assert (header.width, header.height) == (2 * 232, 184)  # 200x160 per eye + 15 %, both eyes
    assert [e.tangents for e in header.eyes] == [pytest.approx(widen(TAN))] * 2
    still = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    decoder = av.CodecContext.create("h264", "r")
    frames = list(decoder.decode(av.Packet(access_unit))) + list(decoder.decode(None))
    video = frames[0].to_ndarray(format="rgb24")
    assert video.shape == still.shape
    mse = np.mean((video.astype(float) - still.astype(float)) ** 2)
    assert 10 * math.log10(255 ** 2 / mse) > 28  # the same picture
    assert red_mask(video.astype(np.int16)).sum() > 20
    _, depth = unpack_depth(video_msg)
    assert depth.shape == (184 // header.depth.step, 464 // header.depth.step)
    ys, xs = np.nonzero(red_mask(still.astype(np.int16)))
    assert 2.6 < float(np.median(depth[ys // header.depth.step, xs // header.depth.step])) < 3.3


def test_a_generated_frame_goes_to_the_headset_as_the_scene_cameras_eye_with_its_depth(tmp_path):
    """The right brain's frame carries the scene camera as its one eye, and the geometry pass's depth
    from that camera: the same eye the flat render is made from."""
    from renderer.geometry import GeometryRenderer
    from server.frames import generated_xr
    from server.headpose import head_pose
    from simulator import World, parse_scene

    scene = parse_scene(BALL_DROP)
    world = World(scene)
    with GeometryRenderer(scene, 160, 120, preset="fast") as renderer:
        flat = renderer.render(world, depth=True)
        generated = 255 - flat.rgb  # stands in for the video model's look of the same frame
        image, data, extra = generated_xr(generated, renderer, world, scene)
    assert np.array_equal(image, generated)
    eye = extra["eyes"][0]
    cam = head_pose(scene, eye.position, eye.orientation)
    want = np.subtract(scene.camera.look_at, scene.camera.position)
    assert np.allclose(cam.position, scene.camera.position)
    assert np.allclose(cam.forward, want / np.linalg.norm(want), atol=1e-6)
    assert eye.tangents[3] == pytest.approx(math.tan(math.radians(scene.camera.fov) / 2))
    import zlib

    plane = np.frombuffer(zlib.decompress(data), "<u2").reshape(extra["depth"].height, extra["depth"].width)
    step = extra["depth"].step
    assert plane.shape == (120 // step, 160 // step)
    hit = plane < 65535
    assert np.allclose(plane[hit] / 1000.0, flat.depth[step // 2::step, step // 2::step][hit], atol=1e-3)


def test_the_h264_bitrate_follows_the_clients_reports():
    from server.codec import START_KBPS, VideoEncoder

    enc = VideoEncoder()
    enc.adapt(age_ms=500.0, kbps=100.0, sent_kbps=8000.0)
    assert enc.kbps == START_KBPS  # at most one change a second
    enc._adapted_at -= 2
    enc.adapt(age_ms=500.0, kbps=7900.0, sent_kbps=8000.0)  # late, but all of it arrived: the client is slow
    assert enc.kbps == START_KBPS
    enc.adapt(age_ms=500.0, kbps=4000.0, sent_kbps=8000.0)  # late, and half was still on its way: a quarter less
    assert enc.kbps == int(START_KBPS * 0.75)
    enc._adapted_at -= 2
    enc.adapt(age_ms=30.0, kbps=3000.0, sent_kbps=3100.0)  # fresh, and taken: a tenth more
    assert enc.kbps == int(int(START_KBPS * 0.75) * 1.1)
    frame = np.zeros((64, 96, 3), np.uint8)
    _, key = enc.encode(frame)
    assert key  # a new bitrate starts on a keyframe
    _, key = enc.encode(frame)
    assert not key
