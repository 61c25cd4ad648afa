"""The web client in real headless Chromium: frames reach the canvas, actions change it, and an
injected WebXR stub drives the VR loop (head poses reach the server, reprojection follows the head)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser_util import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (it drives /usr/bin/chromium)")
pytest.importorskip("fastapi")

from PIL import Image  # noqa: E402

from tests.browser_util import ARGS, BALL_DROP, canvas_pixels, red_centroid, wait_pixels  # noqa: E402
from tests.server_util import auth, live_server, recv_frame  # noqa: E402

# A stand-in for a headset: navigator.xr and XRWebGLLayer, drawing into the page's own canvas
# (framebuffer null), with a head pose the test steers through window.__xrHead.
XR_STUB = """
(() => {
  window.__xrHead = { yaw: 0, pitch: -0.2 };
  window.__xrFrames = 0;
  const quat = (yaw, pitch) => {
    const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
    return { x: cy * sp, y: sy * cp, z: -sy * sp, w: cy * cp };
  };
  const persp = (fovY, aspect, n, f) => {
    const t = 1 / Math.tan(fovY / 2), nf = 1 / (n - f);
    return new Float32Array([t / aspect, 0, 0, 0, 0, t, 0, 0, 0, 0, (f + n) * nf, -1, 0, 0, 2 * f * n * nf, 0]);
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
      const o = quat(window.__xrHead.yaw, window.__xrHead.pitch);
      const c = document.getElementById("view");
      const proj = persp(0.9, (c.width / 2) / c.height, 0.05, 100);
      const views = ["left", "right"].map((eye, i) => ({
        eye, projectionMatrix: proj, transform: { position: { x: (i - 0.5) * 0.064, y: 0, z: 0 }, orientation: o } }));
      return { session: this, getViewerPose: () => ({ transform: { position: { x: 0, y: 0, z: 0 }, orientation: o }, views }) };
    }
    async end() { this.ended = true; this.dispatchEvent(new Event("end")); }
  }
  window.XRWebGLLayer = FakeLayer;
  Object.defineProperty(navigator, "xr", { configurable: true, value: {
    isSessionSupported: async (mode) => mode === "immersive-vr",
    requestSession: async (mode) => (window.__xrSession = new FakeSession()),
  } });
  // Chromium's own makeXRCompatible waits for a real XR device; the stub is the device
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
            assert header.width == 640 and header.pose.ipd == pytest.approx(0.064, abs=1e-3)
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
