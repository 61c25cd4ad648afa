"""VR latency of the web client, measured in Chromium with an injected WebXR device, on loopback.

Starts `callosum serve` in a subprocess, opens a session in headless Chromium (Debian's
/usr/bin/chromium through Playwright), injects a stand-in XR device (navigator.xr whose head pose
this script steers), enters VR, and turns the head to a new orientation once per trial. For each
change it measures, with the page's own clock (performance.now()):

- **pose → reprojected frame**: from the XR frame that delivers the new head pose to both eyes
  drawn with it and finished on the GPU (a 1-pixel readPixels forces completion). This is the page's
  share of motion-to-photon; a headset's runtime delivers the pose with the frame.
- **change → reprojected frame**: from the moment the pose changes (at a random phase of the display
  clock) to the same finished frame; it adds the wait for the browser's next frame.
- **round trip → server frame**: from sending the pose to the first server frame rendered with it,
  received, decoded and in the texture, and to the first display frame drawn from it.

    python bench/vr.py                          # 200 trials, 640x480 per eye
    python bench/vr.py --trials 50 --size 320x240 --json out/vr.json
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
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# The XR device: two eyes side by side in the page's canvas, head pose from window.__head, and hooks
# that time every drawn frame, every pose sent and every server frame shown.
XR_DEVICE = """
(() => {
  window.__head = { yaw: 0, pitch: -0.2, changedAt: 0, id: 0 };
  window.__log = { draws: [], sent: [], shown: [] };
  const quat = (yaw, pitch) => {
    const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
    return { x: cy * sp, y: sy * cp, z: -sy * sp, w: cy * cp };
  };
  const persp = (fovY, aspect, n, f) => {
    const t = 1 / Math.tan(fovY / 2), nf = 1 / (n - f);
    return new Float32Array([t / aspect, 0, 0, 0, 0, t, 0, 0, 0, 0, (f + n) * nf, -1, 0, 0, 2 * f * n * nf, 0]);
  };
  class Layer {
    constructor(session, gl) { this.gl = gl; this.framebuffer = null; }
    getViewport(view) {
      const w = this.gl.canvas.width / 2, h = this.gl.canvas.height;
      return { x: view.eye === "right" ? w : 0, y: 0, width: w, height: h };
    }
  }
  class Session extends EventTarget {
    constructor() { super(); this.renderState = {}; }
    updateRenderState(s) { Object.assign(this.renderState, s); }
    async requestReferenceSpace(type) { return { type }; }
    requestAnimationFrame(cb) { return window.requestAnimationFrame((t) => cb(t, this.frame())); }
    frame() {
      const head = window.__head, o = quat(head.yaw, head.pitch), c = document.getElementById("view");
      const proj = persp(0.9, (c.width / 2) / c.height, 0.05, 100);
      const views = ["left", "right"].map((eye, i) => ({
        eye, projectionMatrix: proj, transform: { position: { x: (i - 0.5) * 0.064, y: 0, z: 0 }, orientation: o } }));
      window.__frameHead = { id: head.id, changedAt: head.changedAt };
      return { session: this, getViewerPose: () => ({ transform: { position: { x: 0, y: 0, z: 0 }, orientation: o }, views }) };
    }
    async end() { this.dispatchEvent(new Event("end")); }
  }
  window.XRWebGLLayer = Layer;
  Object.defineProperty(navigator, "xr", { configurable: true, value: {
    isSessionSupported: async () => true, requestSession: async () => new Session() } });
  WebGLRenderingContext.prototype.makeXRCompatible = async function () {};
  const px = new Uint8Array(4);
  window.__hooks = {
    xrDraw(t0, q, gl) {
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);  // wait until the frame is really drawn
      const f = window.__frameHead;
      window.__log.draws.push([f.id, f.changedAt, t0, performance.now()]);
    },
    poseSent(q, t) { window.__log.sent.push([q[1], t, Date.now()]); },
    frameShown(h, t) { if (h.pose) window.__log.shown.push([h.pose.orientation[1], t, Date.now(), h.rendered_at]); },
  };
})();
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(math.ceil(q / 100 * len(s))) - 1))]


def start_server(scene_size: str, db: Path) -> tuple[subprocess.Popen, str, str]:
    """`callosum serve` on a free loopback port; returns (process, base URL, server key)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--port", str(port), "--db", str(db),
                             "--scenes-dir", str(ROOT / "scenes"), "--planner", "scripted", "--size", scene_size],
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
    """Turn the head `trials` times, each at a random phase of the display clock, `hold_ms` apart."""
    page.evaluate("""async ([trials, hold]) => {
      for (let k = 1; k <= trials; k++) {
        await new Promise((r) => setTimeout(r, hold + Math.random() * 17));
        const head = window.__head;
        head.yaw = 0.3 * Math.sin(k * 0.7) + 1e-4 * k;  // a different orientation every time
        head.id = k;
        head.changedAt = performance.now();
      }
      await new Promise((r) => setTimeout(r, hold));
    }""", [trials, hold_ms])


def analyse(log: dict) -> dict:
    """Per trial: the first drawn frame with its pose, and the first server frame rendered for it."""
    first_draw: dict[int, tuple] = {}
    for tid, changed, t0, t1 in log["draws"]:
        if tid > 0 and tid not in first_draw:
            first_draw[tid] = (changed, t0, t1)
    page_ms = [t1 - t0 for _, t0, t1 in first_draw.values()]
    change_ms = [t1 - changed for changed, _, t1 in first_draw.values()]
    every_frame = [t1 - t0 for _, _, t0, t1 in log["draws"][10:]]
    sent: list[tuple[float, float, float]] = []  # (orientation y, first time sent, wall clock), per pose
    for y, t, wall in log["sent"]:
        if not sent or abs(sent[-1][0] - y) > 1e-7:
            sent.append((y, t, wall))
    draws = [t1 for _, _, _, t1 in log["draws"]]
    round_trip, to_display, server_part, client_part, seen = [], [], [], [], set()
    for y, t, wall, rendered_at in log["shown"]:  # the server normalises the quaternion: match within 1e-6
        match = next((i for i, (ys, _, _) in enumerate(sent) if abs(ys - y) < 1e-6), None)
        if match is None or match in seen or match == 0:
            continue
        seen.add(match)
        _, t_sent, wall_sent = sent[match]
        round_trip.append(t - t_sent)
        server_part.append(rendered_at - wall_sent)  # same machine, same clock (ms resolution)
        client_part.append(wall - rendered_at)
        later = next((d for d in draws if d >= t), None)
        if later is not None:
            to_display.append(later - t_sent)
    stat = lambda v: {"n": len(v), "p50_ms": round(percentile(v, 50), 2), "p99_ms": round(percentile(v, 99), 2),
                      "max_ms": round(max(v), 2) if v else float("nan")}
    return {"pose_to_reprojected_frame": stat(page_ms), "change_to_reprojected_frame": stat(change_ms),
            "reproject_every_frame": stat(every_frame), "round_trip_to_server_frame": stat(round_trip),
            "round_trip_to_drawn_server_frame": stat(to_display),
            "of_which_pose_to_server_render_done": stat(server_part),
            "of_which_send_decode_upload": stat(client_part)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--hold-ms", type=int, default=120, help="time between head turns")
    ap.add_argument("--size", default="640x480", help="server frame size per eye")
    ap.add_argument("--scene", default="ball-off-table")
    ap.add_argument("--viewport", default="1280x720", help="browser window (the two eyes share it)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install -y chromium) and playwright (pip install playwright)")
    import httpx
    from playwright.sync_api import sync_playwright

    vw, vh = (int(v) for v in args.viewport.split("x"))
    with tempfile.TemporaryDirectory(prefix="callosum-vr-") as tmp:
        proc, base, key = start_server(args.size, Path(tmp) / "s.db")
        try:
            r = httpx.post(base + "/api/sessions", json={"scene": args.scene},
                           headers={"Authorization": f"Bearer {key}"}, timeout=30)
            r.raise_for_status()
            sess = r.json()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
                page = browser.new_page(viewport={"width": vw, "height": vh})
                page.add_init_script(XR_DEVICE)
                page.goto(f"{base}/#session={sess['session']}&token={sess['player_token']}")
                page.wait_for_function("() => window.callosum && window.callosum.live", timeout=30000)
                page.evaluate("() => { window.callosum.hooks = window.__hooks; }")
                page.wait_for_function("() => !document.getElementById('enter-vr').disabled", timeout=10000)
                page.click("#enter-vr")
                page.wait_for_function("() => window.__log.draws.length > 30", timeout=20000)
                canvas = page.evaluate("() => [document.getElementById('view').width, document.getElementById('view').height]")
                run_trials(page, args.trials, args.hold_ms)
                log = page.evaluate("() => window.__log")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(20)
    result = {"trials": args.trials, "server_size_per_eye": args.size, "canvas": canvas, "scene": args.scene,
              **analyse(log)}
    for name, s in result.items():
        if isinstance(s, dict):
            print(f"{name:36s} n={s['n']:4d}  p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms  max {s['max_ms']:7.2f} ms")
    print(f"canvas {canvas[0]}x{canvas[1]} (two eyes), server frames {args.size} per eye, scene {args.scene}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
