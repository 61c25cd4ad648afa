"""VR latency of the web client, measured in Chromium with an injected WebXR device, on loopback.

Starts `callosum serve` in a subprocess, opens a session in headless Chromium (Debian's
/usr/bin/chromium through Playwright), injects a stand-in headset (navigator.xr with an XRWebGLLayer
whose framebuffer is its own --eye sized pair, each eye about --fov degrees wide), enters VR, and
moves the head once per trial, alternately turning it (rotation) and stepping it 2-5 cm (translation).
For each change it measures, with the page's own clock (performance.now()):

- **pose → reprojected frame**: from the XR frame that delivers the new head pose to both eyes
  drawn with it and finished on the GPU (a 1-pixel readPixels forces completion), for rotation and
  translation apart. This is the page's share of motion-to-photon.
- **change → reprojected frame**: from the moment the pose changes (at a random phase of the display
  clock) to the same finished frame; it adds the wait for the browser's next frame.
- **round trip → server frame**: from sending the pose to the first server frame rendered for it,
  received, decoded and in the texture, and to the first display frame drawn from it; and the share
  of poses that never got a frame of their own.
- **reprojection error**: PSNR of the left eye reprojected from the frame of the previous pose against
  the server's true render at the new pose (both through the page), for 2 cm and 5 cm steps, and
  of the stale frame shown without reprojection.
- the bytes received per second (the codec the page picked: H.264 where WebCodecs decodes it).

    python bench/vr.py                                  # 100 trials, 1024x1024 per eye
    python bench/vr.py --eye 1832x1920 --trials 40 --codec jpeg --json out/vr.json
    python bench/vr.py --tiny-video --psnr-reps 0       # a video model session (tiny random weights)

With ``--video-model DIR`` (or ``--tiny-video``: a tiny random-weight LTX pipeline built into a temporary
folder) the server renders turns with the video model; one turn is played before the trials, so the
headset rests on a generated frame (the scene camera's, with its depth) and every head move is local
reprojection of it. The reprojection-error pass needs fresh renders at each pose: skip it (--psnr-reps 0).

`bench/vr_codec.py` measures bandwidth at equal quality and the encode cost offline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.stats import percentile  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# The XR device: a layer with its own framebuffer (two eyes side by side), views with the headset's
# frustum, the head pose from window.__head, and hooks that time every drawn frame, pose sent and
# server frame shown.
XR_DEVICE = """
(() => {
  window.__head = { yaw: 0, pitch: -0.2, x: 0, changedAt: 0, id: 0, kind: "" };
  window.__log = { draws: [], sent: [], shown: [] };
  const quat = (yaw, pitch) => {
    const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
    return { x: cy * sp, y: sy * cp, z: -sy * sp, w: cy * cp };
  };
  const frustum = (t, n, f) => new Float32Array([1 / t, 0, 0, 0, 0, 1 / t, 0, 0, 0, 0, -(f + n) / (f - n), -1,
                                                 0, 0, -2 * f * n / (f - n), 0]);
  class Layer {
    constructor(session, gl) {
      const [w, h] = window.__eye;
      this.gl = gl;
      this.framebuffer = gl.createFramebuffer();
      const tex = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 2 * w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
      window.__layerFb = this.framebuffer;
    }
    getViewport(view) {
      const [w, h] = window.__eye;
      return { x: view.eye === "right" ? w : 0, y: 0, width: w, height: h };
    }
  }
  class Session extends EventTarget {
    constructor() { super(); this.renderState = {}; }
    updateRenderState(s) { Object.assign(this.renderState, s); }
    async requestReferenceSpace(type) { return { type }; }
    requestAnimationFrame(cb) { return window.requestAnimationFrame((t) => cb(t, this.frame())); }
    frame() {
      const head = window.__head, o = quat(head.yaw, head.pitch), proj = frustum(window.__tan, 0.05, 100);
      const views = ["left", "right"].map((eye, i) => {
        const d = (i - 0.5) * 0.064;
        return { eye, projectionMatrix: proj, transform: {
          position: { x: head.x + d * Math.cos(head.yaw), y: 0, z: -d * Math.sin(head.yaw) }, orientation: o } };
      });
      window.__frameHead = { id: head.id, changedAt: head.changedAt, kind: head.kind };
      return { session: this, getViewerPose: () => ({ transform: { position: { x: head.x, y: 0, z: 0 }, orientation: o }, views }) };
    }
    async end() { this.dispatchEvent(new Event("end")); }
  }
  window.XRWebGLLayer = Layer;
  Object.defineProperty(navigator, "xr", { configurable: true, value: {
    isSessionSupported: async () => true, requestSession: async () => new Session() } });
  for (const C of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (C) C.prototype.makeXRCompatible = async function () {};
  }
  const px = new Uint8Array(4);
  window.__hooks = {
    xrDraw(t0, q, gl) {
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);  // wait until the frame is really drawn
      const f = window.__frameHead;
      window.__log.draws.push([f.id, f.changedAt, t0, performance.now(), f.kind]);
    },
    poseSent(q, t, p) { window.__log.sent.push([q[1], p[0], t, Date.now()]); },
    frameShown(h, t) {
      if (h.pose) window.__log.shown.push([h.pose.orientation[1], h.pose.position[0], t, Date.now(), h.rendered_at]);
    },
  };
})();
"""

# Reprojection error: the left eye reprojected from the previous pose's frame against the server's own
# frame for the new pose, both drawn by the page into the layer's framebuffer.
PSNR_JS = """async ([steps, reps]) => {
  const app = window.callosum, gl = app.rp.gl, [W, H] = window.__eye, head = window.__head;
  const raf = (n = 1) => new Promise((r) => { const f = () => (--n <= 0 ? r() : requestAnimationFrame(f)); requestAnimationFrame(f); });
  const read = () => { const px = new Uint8Array(W * H * 4); gl.bindFramebuffer(gl.FRAMEBUFFER, window.__layerFb);
                       gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, px); return px; };
  const fresh = async () => {  // until the shown frame was rendered exactly at the current left eye
    for (const end = performance.now() + 20000; performance.now() < end;) {
      const e = app.live && app.live.header.eyes;
      if (e && Math.abs(e[0].position[0] - (head.x - 0.032)) < 1e-5 && Math.abs(e[0].orientation[1]) < 1e-6) { await raf(2); return true; }
      await raf();
    }
    return false;
  };
  const psnr = (a, b) => { let s = 0, n = 0; for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c++) { const d = a[i + c] - b[i + c]; s += d * d; n++; }
                           return 10 * Math.log10((255 * 255) / Math.max(s / n, 1e-9)); };
  head.yaw = 0; head.x = 0; head.id = -1;
  const out = {};
  for (const d of steps) {
    out[d] = { reprojected: [], stale: [] };
    for (let k = 0; k < reps; k++) {
      if (!(await fresh())) continue;
      const stale = read(), queue = [], handler = app.ws.onmessage;
      app.ws.onmessage = (ev) => queue.push(ev);
      head.x += (k % 2 ? -1 : 1) * d;
      await raf(3);
      const reprojected = read();
      app.ws.onmessage = handler;
      for (const ev of queue) handler(ev);
      if (!(await fresh())) continue;
      const truth = read();
      out[d].reprojected.push(psnr(reprojected, truth));
      out[d].stale.push(psnr(stale, truth));
    }
  }
  return out;
}"""



def start_server(scene_size: str, db: Path, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, str]:
    """`callosum serve` on a free loopback port; returns (process, base URL, server key)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--port", str(port), "--db", str(db),
                             "--scenes-dir", str(ROOT / "scenes"), "--planner", "scripted", "--size", scene_size,
                             *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"open\s+(http://127\.0\.0\.1:\d+)/#key=(\S+)", line)
        if found:
            time.sleep(1.0)  # uvicorn binds right after the banner
            return proc, found.group(1), found.group(2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("callosum serve did not start")


def run_trials(page, trials: int, hold_ms: int) -> None:
    """Move the head `trials` times, each at a random phase of the display clock, `hold_ms` apart:
    odd trials turn it, even trials step it 2-5 cm sideways."""
    page.evaluate("""async ([trials, hold]) => {
      for (let k = 1; k <= trials; k++) {
        await new Promise((r) => setTimeout(r, hold + Math.random() * 17));
        const head = window.__head;
        if (k % 2) { head.yaw = 0.3 * Math.sin(k * 0.7) + 1e-4 * k; head.kind = "rotation"; }
        else { head.x = (0.02 + 0.03 * Math.random()) * (k % 4 ? 1 : -1) + 1e-5 * k; head.kind = "translation"; }
        head.id = k;
        head.changedAt = performance.now();
      }
      await new Promise((r) => setTimeout(r, hold));
    }""", [trials, hold_ms])


def stat(v: list[float]) -> dict:
    return {"n": len(v), "p50_ms": round(percentile(v, 50), 2), "p99_ms": round(percentile(v, 99), 2),
            "max_ms": round(max(v), 2) if v else float("nan")}


def analyse(log: dict) -> dict:
    """Per trial: the first drawn frame with its pose, and the first server frame rendered for it."""
    first_draw: dict[int, tuple] = {}
    for tid, changed, t0, t1, kind in log["draws"]:
        if tid > 0 and tid not in first_draw:
            first_draw[tid] = (changed, t0, t1, kind)
    out = {}
    for kind in ("rotation", "translation"):
        out[f"pose_to_reprojected_frame_{kind}"] = stat([t1 - t0 for _, t0, t1, k in first_draw.values() if k == kind])
    out["pose_to_reprojected_frame"] = stat([t1 - t0 for _, t0, t1, _ in first_draw.values()])
    out["change_to_reprojected_frame"] = stat([t1 - changed for changed, _, t1, _ in first_draw.values()])
    out["reproject_every_frame"] = stat([t1 - t0 for _, _, t0, t1, _ in log["draws"][10:]])
    sent: list[tuple] = []  # (orientation y, position x, first time sent, wall clock), one per distinct pose
    for y, x, t, wall in log["sent"]:
        if not sent or abs(sent[-1][0] - y) > 1e-7 or abs(sent[-1][1] - x) > 1e-7:
            sent.append((y, x, t, wall))
    draws = [d[3] for d in log["draws"]]
    round_trip, to_display, server_part, client_part, seen = [], [], [], [], set()
    for y, x, t, wall, rendered_at in log["shown"]:  # the server normalises the quaternion: match within 1e-6
        match = next((i for i, s in enumerate(sent) if abs(s[0] - y) < 1e-6 and abs(s[1] - x) < 1e-6), None)
        if match is None or match in seen or match == 0:
            continue
        seen.add(match)
        _, _, t_sent, wall_sent = sent[match]
        round_trip.append(t - t_sent)
        server_part.append(rendered_at - wall_sent)  # same machine, same clock (ms resolution)
        client_part.append(wall - rendered_at)
        later = next((d for d in draws if d >= t), None)
        if later is not None:
            to_display.append(later - t_sent)
    out.update({"round_trip_to_server_frame": stat(round_trip), "round_trip_to_drawn_server_frame": stat(to_display),
                "of_which_pose_to_server_render_done": stat(server_part),
                "of_which_send_decode_upload": stat(client_part),
                "poses": len(sent) - 1, "poses_without_a_frame": len(sent) - 1 - len(seen)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--hold-ms", type=int, default=150, help="time between head moves")
    ap.add_argument("--eye", default="1024x1024", help="the headset's framebuffer per eye")
    ap.add_argument("--fov", type=float, default=100.0, help="field of view per eye (degrees, both axes)")
    ap.add_argument("--codec", choices=["auto", "jpeg"], default="auto",
                    help="auto: H.264 where the browser's WebCodecs decodes it; jpeg: hide WebCodecs")
    ap.add_argument("--psnr-reps", type=int, default=4, help="repetitions of each 2 cm and 5 cm step")
    ap.add_argument("--scene", default="ball-off-table")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--video-model", type=Path, help="serve with this video model (one turn is played first)")
    ap.add_argument("--tiny-video", action="store_true", help="serve with a tiny random-weight LTX pipeline")
    ap.add_argument("--video-size", default="320x224", help="the video model's output size")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install -y chromium) and playwright (pip install playwright)")
    eye = [int(v) for v in args.eye.split("x")]
    with tempfile.TemporaryDirectory(prefix="callosum-vr-") as tmp:
        if args.tiny_video:
            from renderer.video.tiny import save_tiny

            args.video_model = Path(tmp) / "ltx"
            save_tiny("ltx", args.video_model)
        video = ("--video-model", str(args.video_model), "--video-steps", "2",
                 "--video-size", args.video_size) if args.video_model else ()
        proc, base, key = start_server("320x240", Path(tmp) / "s.db", video)
        try:
            log, extra = run_browser(chromium, base, key, args, eye)
        finally:
            proc.terminate()
            proc.wait(20)
    result = {"trials": args.trials, "eye": eye, "fov_deg": args.fov, "scene": args.scene,
              "video_model": str(args.video_model) if args.video_model else None, **extra, **analyse(log)}
    if args.video_model:  # resting on a generated frame, the server sends it once: no frame per pose to time
        for key in [k for k in result if k.startswith(("round_trip", "of_which", "poses"))]:
            result[key] = "n/a: the held generated frame is sent once; every head move is the page's reprojection"
    for name, s in result.items():
        if isinstance(s, dict) and "p50_ms" in s:
            print(f"{name:40s} n={s['n']:4d}  p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms  max {s['max_ms']:7.2f} ms")
        else:
            print(f"{name:40s} {s}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def run_browser(chromium: str, base: str, key: str, args, eye: list[int]) -> tuple[dict, dict]:
    import httpx
    from playwright.sync_api import sync_playwright

    r = httpx.post(base + "/api/sessions", json={"scene": args.scene}, headers={"Authorization": f"Bearer {key}"},
                   timeout=30)
    r.raise_for_status()
    sess = r.json()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 800, "height": 600})
        tan = math.tan(math.radians(args.fov / 2))
        page.add_init_script(f"window.__eye = {eye}; window.__tan = {tan};"
                             + ("delete window.VideoDecoder;" if args.codec == "jpeg" else "") + XR_DEVICE)
        page.goto(f"{base}/#session={sess['session']}&token={sess['player_token']}")
        page.wait_for_function("() => window.callosum && window.callosum.live", timeout=30000)
        page.evaluate("() => { window.callosum.hooks = window.__hooks; }")
        if args.video_model:  # one turn: the world then rests on its last generated frame
            page.fill("#duration", "0.5")
            page.fill("#action", "the ball rolls on")
            page.press("#action", "Enter")
            page.wait_for_function("() => { const h = window.callosum.live.header; return h.generated && "
                                   "h.step === 1 && !h.turn; }", timeout=600000)
        page.wait_for_function("() => !document.getElementById('enter-vr').disabled", timeout=10000)
        page.click("#enter-vr")
        page.wait_for_function("() => window.__log.draws.length > 30 && window.callosum.live.header.eyes",
                               timeout=120000)
        t0, b0 = page.evaluate("() => [performance.now(), window.callosum.stats.bytesTotal || 0]")
        run_trials(page, args.trials, args.hold_ms)
        t1, b1, codec, six, generated = page.evaluate(
            "() => [performance.now(), window.callosum.stats.bytesTotal || 0, window.callosum.live.header.format, "
            "window.callosum.rp.sixDof, Boolean(window.callosum.live.header.generated)]")
        log = page.evaluate("() => window.__log")
        psnr = page.evaluate(PSNR_JS, [[0.02, 0.05], args.psnr_reps])
        browser.close()
    mean = lambda v: round(sum(v) / len(v), 2) if v else float("nan")  # noqa: E731
    extra = {"codec": codec, "six_dof": six, "generated": generated, "received_mbit_s": round((b1 - b0) * 8 / (t1 - t0) / 1000, 2),
             "psnr_db": {f"{int(float(d) * 100)}cm": {"reprojected": mean(v["reprojected"]), "stale": mean(v["stale"]),
                                                      "n": len(v["reprojected"])} for d, v in psnr.items()}}
    return log, extra


if __name__ == "__main__":
    main()
