"""The web client in real headless Chromium: frames reach the canvas, actions change it, and an
injected WebXR stub drives the VR loop (head poses reach the server, reprojection follows the head)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.browser_util import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (it drives /usr/bin/chromium)")
pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402

from tests.browser_util import ARGS, BALL_DROP, canvas_pixels, red_centroid, red_mask, wait_pixels  # noqa: E402
from tests.server_util import auth, live_server, recv_frame  # noqa: E402

# A stand-in for a headset: navigator.xr and XRWebGLLayer, drawing into the page's own canvas
# (framebuffer null), with a head pose the test steers through window.__xrHead.
XR_STUB = """
(() => {
  window.__xrHead = { yaw: 0, pitch: -0.2, x: 0, y: 0, z: 0 };
  window.__xrTan = null;  // per-eye [left, right, bottom, top] tangents; null: 0.9 rad vertical, canvas aspect
  window.__xrFrames = 0;
  const quat = (yaw, pitch) => {
    const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
    return { x: cy * sp, y: sy * cp, z: -sy * sp, w: cy * cp };
  };
  const frustum = ([l, r, b, t], n, f) => new Float32Array([2 / (r - l), 0, 0, 0, 0, 2 / (t - b), 0, 0,
    (r + l) / (r - l), (t + b) / (t - b), -(f + n) / (f - n), -1, 0, 0, -2 * f * n / (f - n), 0]);
  const rotate = (q, v) => {  // v rotated by unit quaternion q
    const { x, y, z, w } = q, [a, b, c] = v;
    const ix = w * a + y * c - z * b, iy = w * b + z * a - x * c, iz = w * c + x * b - y * a, iw = -x * a - y * b - z * c;
    return [ix * w + iw * -x + iy * -z - iz * -y, iy * w + iw * -y + iz * -x - ix * -z, iz * w + iw * -z + ix * -y - iy * -x];
  };
  class FakeLayer {
    constructor(session, gl) { this.gl = gl; this.framebuffer = null; }
    get framebufferWidth() { return this.gl.canvas.width; }
    get framebufferHeight() { return this.gl.canvas.height; }
    getViewport(view) {
      const w = this.gl.canvas.width / 2, h = this.gl.canvas.height;
      return { x: view.eye === "right" ? w : 0, y: 0, width: w, height: h };
    }
  }
  class FakeSession extends EventTarget {
    constructor() { super(); this.renderState = {}; this.ended = false; }
    updateRenderState(s) { Object.assign(this.renderState, s); }
    async requestReferenceSpace(type) { return { type }; }
    requestAnimationFrame(cb) {
      return window.requestAnimationFrame((t) => { if (!this.ended) { window.__xrFrames++; cb(t, this.frame()); } });
    }
    frame() {
      const h = window.__xrHead, o = quat(h.yaw, h.pitch), c = document.getElementById("view");
      const ty = Math.tan(0.45), tx = ty * (c.width / 2) / c.height;
      const views = ["left", "right"].map((eye, i) => {
        const off = rotate(o, [(i - 0.5) * 0.064, 0, 0]);
        return { eye, projectionMatrix: frustum(window.__xrTan ? window.__xrTan[i] : [-tx, tx, -ty, ty], 0.05, 100),
                 transform: { position: { x: h.x + off[0], y: h.y + off[1], z: h.z + off[2] }, orientation: o } };
      });
      return { session: this, getViewerPose: () => ({ transform: { position: { x: h.x, y: h.y, z: h.z }, orientation: o }, views }) };
    }
    async end() { this.ended = true; this.dispatchEvent(new Event("end")); }
  }
  window.XRWebGLLayer = FakeLayer;
  Object.defineProperty(navigator, "xr", { configurable: true, value: {
    isSessionSupported: async (mode) => mode === "immersive-vr",
    requestSession: async (mode) => (window.__xrSession = new FakeSession()),
  } });
  // Chromium's own makeXRCompatible waits for a real XR device; the stub is the device
  WebGL2RenderingContext.prototype.makeXRCompatible = async function () {};
  WebGLRenderingContext.prototype.makeXRCompatible = async function () {};
})();
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    scenes = tmp_path_factory.mktemp("scenes")
    (scenes / "ball-drop.yaml").write_text(BALL_DROP)
    with live_server(scenes_dir=scenes) as s:
        yield s


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1200, "height": 800})
        try:
            yield ctx
        finally:
            ctx.close()


def open_page(browser, srv, session: dict, token_key: str = "player_token", init: str | None = None):
    page = browser.new_page()
    if init:
        page.add_init_script(init)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{srv.base}/#session={session['session']}&token={session[token_key]}")
    return page, errors


def test_typed_action_plays_and_the_canvas_shows_it(browser, srv):
    session = srv.create("ball-drop")
    page, errors = open_page(browser, srv, session)
    try:
        before = wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame (a red ball)")
        start = red_centroid(before)
        page.fill("#duration", "0.6")
        page.fill("#action", "let go of the ball")
        page.press("#action", "Enter")
        after = wait_pixels(page, lambda img: (c := red_centroid(img)) is None or c[1] > start[1] + 0.1,
                            what="the ball to fall on the canvas")
        end = red_centroid(after)
        assert end is None or end[1] > start[1] + 0.1  # it fell (or left the view)
        assert np.abs(after - before).mean() > 1.0
        assert "let go of the ball" in page.locator("#log").inner_text()
        assert not errors, errors
    finally:
        page.close()


def test_xr_loop_sends_head_pose_and_reprojects_locally(browser, srv):
    session = srv.create("ball-drop")
    page, errors = open_page(browser, srv, session, init=XR_STUB)
    state_url = f"/api/sessions/{session['session']}/state"
    headers = {"Authorization": f"Bearer {session['spectator_token']}"}
    try:
        wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame")
        page.wait_for_function("() => !document.getElementById('enter-vr').disabled", timeout=10000)
        page.click("#enter-vr")
        try:
            page.wait_for_function("() => window.__xrFrames > 20", timeout=10000)
        except Exception:
            raise AssertionError(f"XR loop did not run: {page.locator('#log').inner_text()!r} {errors} "
                                 f"{page.evaluate('() => [window.__xrFrames, typeof window.__xrSession]')}")

        view = srv.http.get(state_url, headers=headers).json()["view"]
        assert view is not None and view["stereo"] is True and view["ipd"] == pytest.approx(0.064, abs=1e-3)
        assert view["orientation"][0] == pytest.approx(np.sin(-0.1), abs=1e-3)  # pitch -0.2 rad, from the stub

        from websockets.sync.client import connect

        with connect(srv.ws_base + session["ws_url"]) as spectator:
            auth(spectator, session["spectator_token"])
            # a joining spectator may first get the frame of the page's earlier desktop (mono) pose
            header, _ = recv_frame(spectator, where=lambda h: h.pose is not None and h.stereo)
            assert header.pose.ipd == pytest.approx(0.064, abs=1e-3)
            # turn the head 0.15 rad to the left: the server renders the new view
            page.evaluate("() => { window.__xrHead.yaw = 0.15; }")
            header, _ = recv_frame(spectator, where=lambda h: h.pose is not None and h.pose.orientation[1] > 0.05)
            assert header.pose.orientation[1] == pytest.approx(np.sin(0.075), abs=1e-3)
        view = srv.http.get(state_url, headers=headers).json()["view"]
        assert view["orientation"][1] == pytest.approx(np.sin(0.075), abs=1e-3)

        page.wait_for_timeout(500)
        img = canvas_pixels(page)
        w = img.shape[1] // 2
        left, right = red_centroid(img[:, :w]), red_centroid(img[:, w:])
        if not (left and right):
            Image.fromarray(img.astype(np.uint8)).save("/tmp/xr-fail.png")
        assert left and right, "both eyes show the ball"
        assert abs(left[1] - right[1]) < 0.02  # same height in both eyes

        # freeze the stream: from now on only local reprojection can move the picture
        page.evaluate("() => { window.callosum.ws.onmessage = null; }")
        page.wait_for_timeout(300)
        frozen = red_centroid(canvas_pixels(page)[:, :w])
        page.evaluate("() => { window.__xrHead.yaw = 0.3; }")  # a further 0.15 rad left
        page.wait_for_timeout(300)
        moved = red_centroid(canvas_pixels(page)[:, :w])
        assert moved is not None and moved[0] > frozen[0] + 0.05  # the world slides right as the head turns left
        page.evaluate("() => { window.__xrHead.yaw = 0.15; }")
        page.wait_for_timeout(300)
        back = red_centroid(canvas_pixels(page)[:, :w])
        assert back[0] == pytest.approx(frozen[0], abs=0.01)
        assert not errors, errors
    finally:
        page.close()


def recv_xr_frame(ws, where, timeout: float = 15.0):
    """The next frame matching `where(header)`: (header, image bytes, depth plane in metres)."""
    import time

    from server.protocol import unpack_depth, unpack_frame

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(data, bytes):
            header, image = unpack_frame(data)
            if where(header):
                return header, image, unpack_depth(data)[1]
    raise AssertionError(f"no matching frame within {timeout} s")


def enter_vr(page, errors):
    page.wait_for_function("() => !document.getElementById('enter-vr').disabled", timeout=10000)
    page.click("#enter-vr")
    try:
        page.wait_for_function("() => window.__xrFrames > 10", timeout=10000)
    except Exception:
        raise AssertionError(f"XR loop did not run: {page.locator('#log').inner_text()!r} {errors}")


HEADSET_TANGENTS = [[-1.3, 1.0, -1.25, 1.0], [-1.0, 1.3, -1.25, 1.0]]
"""About 97° by 96° per eye, off-centre (each eye sees more to its own side), like a headset's."""


def test_each_eye_renders_its_own_frustum_and_a_head_step_reprojects_before_any_server_frame(browser, srv):
    from server.xr import eye_size, widen

    session = srv.create("ball-drop")
    page, errors = open_page(browser, srv, session, init=XR_STUB)
    try:
        wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame")
        page.evaluate(f"() => {{ window.__xrTan = {HEADSET_TANGENTS}; }}")
        enter_vr(page, errors)
        viewport = page.evaluate("() => [document.getElementById('view').width / 2, document.getElementById('view').height]")
        from websockets.sync.client import connect

        with connect(srv.ws_base + session["ws_url"]) as spectator:
            auth(spectator, session["spectator_token"])
            header, jpeg, depth = recv_xr_frame(spectator, lambda h: h.eyes is not None)
        # the page read each eye's frustum off its projection matrix; the server rendered exactly that, widened
        for sent, rendered, tan in zip(header.pose.views, header.eyes, HEADSET_TANGENTS):
            assert sent.tangents == pytest.approx(tan, abs=1e-5)
            assert rendered.tangents == pytest.approx(widen(tan), abs=1e-5)
            assert rendered.position == pytest.approx(sent.position, abs=1e-6)  # a still head: nothing to predict
        assert header.pose.viewport == tuple(round(v) for v in viewport)
        assert (header.width // 2, header.height) == eye_size(header.pose.viewport, (0, 0))
        # exact depth came with it: the ball is about 3 m ahead
        assert depth.shape == (header.height // header.depth.step, header.width // header.depth.step)
        step = header.depth.step
        ys, xs = np.nonzero(red_mask(np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)))
        assert len(xs) > 20
        assert 2.6 < float(np.median(depth[ys // step, xs // step])) < 3.1
        assert np.isinf(depth[0]).all()  # the sky above the horizon

        page.wait_for_function("() => window.callosum.rp.sixDof", timeout=10000)
        page.wait_for_timeout(300)
        w = canvas_pixels(page).shape[1] // 2
        page.evaluate("() => { window.callosum.ws.onmessage = null; }")  # from now on only the page can move the picture
        page.wait_for_timeout(300)
        before = red_centroid(canvas_pixels(page)[:, :w])
        page.evaluate("() => { window.__xrHead.x = 0.3; }")  # step 30 cm to the right
        page.wait_for_timeout(400)
        after = red_centroid(canvas_pixels(page)[:, :w])
        assert before and after, "the left eye shows the ball before and after the step"
        left, right = HEADSET_TANGENTS[0][:2]
        expected = 0.3 / 3.0 / (right - left)  # the ball slides left by its parallax, as a fraction of the eye
        assert before[0] - after[0] == pytest.approx(expected, rel=0.35)
        assert not errors, errors
    finally:
        page.close()


NO_WEBCODECS = "delete window.VideoDecoder; delete window.EncodedVideoChunk;"


@pytest.mark.parametrize("init, codec", [("", "h264"), (NO_WEBCODECS, "jpeg")], ids=["webcodecs", "no-webcodecs"])
def test_headset_frames_come_as_h264_where_the_browser_decodes_it_and_as_jpeg_elsewhere(browser, srv, init, codec):
    session = srv.create("ball-drop")
    page, errors = open_page(browser, srv, session, init=XR_STUB + init)
    try:
        wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame")
        enter_vr(page, errors)
        page.wait_for_function("(codec) => { const l = window.callosum.live; return l && l.header.eyes && "
                               "l.header.format === codec; }", arg=codec, timeout=15000)
        assert page.evaluate("() => window.callosum.codec") == codec
        page.wait_for_timeout(300)
        img = canvas_pixels(page)
        w = img.shape[1] // 2
        assert red_centroid(img[:, :w]) and red_centroid(img[:, w:]), "both eyes show the ball"
        assert not errors, errors
    finally:
        page.close()


@pytest.fixture(scope="module")
def video_srv(tmp_path_factory):
    """A server whose turns a tiny random-weight video model renders (built and saved here, loaded back)."""
    pytest.importorskip("diffusers")
    import torch

    from renderer.video import load_video_renderer
    from renderer.video.tiny import save_tiny

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("tiny") / "ltx"
    save_tiny("ltx", folder)
    scenes = tmp_path_factory.mktemp("video-scenes")
    (scenes / "ball-drop.yaml").write_text(BALL_DROP)
    with live_server(scenes_dir=scenes, video=load_video_renderer(folder, steps=2, size=(96, 64))) as s:
        yield s


def test_the_headset_shows_a_generated_frame_and_reprojects_it_with_the_head(browser, video_srv):
    """After a turn the headset's picture is the video model's frame (no red ball: random weights),
    drawn with its depth (6-DoF), and a head step moves it with the stream frozen."""
    session = video_srv.create("ball-drop")
    page, errors = open_page(browser, video_srv, session, init=XR_STUB)
    try:
        wait_pixels(page, lambda img: red_centroid(img) is not None, what="the first frame")
        enter_vr(page, errors)
        w = canvas_pixels(page).shape[1] // 2
        assert red_centroid(canvas_pixels(page)[:, :w]), "before any turn: the geometry pass's red ball"
        page.fill("#duration", "0.5")
        page.fill("#action", "let go of the ball")
        page.press("#action", "Enter")
        page.wait_for_function("() => { const l = window.callosum.live; return l && l.header.generated && "
                               "l.header.step === 1 && !l.header.turn; }", timeout=60000)
        header = page.evaluate("() => window.callosum.live.header")
        assert header["eyes"] and len(header["eyes"]) == 1 and header["depth"] and [header["width"],
                                                                                       header["height"]] == [96, 64]
        page.wait_for_function("() => window.callosum.rp.sixDof", timeout=10000)
        page.evaluate("() => { window.callosum.ws.onmessage = null; }")  # from now on only the page moves the picture
        page.wait_for_timeout(400)
        before = canvas_pixels(page)[:, :w]
        assert red_centroid(before) is None, "the generated look, not the geometry pass's"
        page.evaluate("() => { window.__xrHead.x = 0.3; }")  # step 30 cm to the right
        page.wait_for_timeout(400)
        moved = canvas_pixels(page)[:, :w]
        page.evaluate("() => { window.__xrHead.x = 0; }")
        page.wait_for_timeout(400)
        back = canvas_pixels(page)[:, :w]
        assert np.abs(moved - before).mean() > 3 * max(1.0, np.abs(back - before).mean())
        assert not errors, errors
    finally:
        page.close()
