"""Several `callosum serve` processes on one Postgres: turns/s, frames/s delivered and turn latency
with 1 and 2 server processes, the same sessions and clients; and the Ray segment round trip against
the in-process renderer on the tiny LTX pipeline.

    OMP_NUM_THREADS=1 .venv/bin/python bench/serve_pg.py --sessions 4 --turns 8
    OMP_NUM_THREADS=1 .venv/bin/python bench/serve_pg.py --ray-only

Postgres is started as in the tests (tests/pg_util.py). Each client drives its own session over the
WebSocket with pinned events (the scripted planner), one turn after the other; a turn's latency is
from sending the action to its `progress: done` (including the paced playback of 0.25 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.pg_util import fresh_database, postgres_server  # noqa: E402
from tests.server_util import auth, free_port  # noqa: E402

KEY = "bench-key"
FLICK = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.1, 0, 0]}]


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CALLOSUM_SERVER_KEY": KEY, "CALLOSUM_ADVERTISE": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--db", url, "--port", str(port), "--planner",
                             "scripted", "--scenes-dir", str(ROOT / "scenes")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("serve did not start")


def drive(base: str, turns: int, out: dict) -> None:
    from websockets.sync.client import connect

    r = httpx.post(base + "/api/sessions", json={"scene": "ball-off-table"},
                   headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    sess = r.json()
    latencies, frames = [], 0
    with connect(base.replace("http", "ws") + sess["ws_url"], open_timeout=30, max_size=None) as ws:
        auth(ws, sess["player_token"])
        for i in range(turns):
            ws.send(json.dumps({"type": "action", "action": f"turn {i}", "events": FLICK, "duration": 0.25}))
            t0 = time.monotonic()
            while True:
                data = ws.recv(timeout=120)
                if isinstance(data, bytes):
                    frames += 1
                    continue
                m = json.loads(data)
                if m["type"] == "progress" and m["stage"] in ("done", "failed", "cancelled"):
                    break
            latencies.append(time.monotonic() - t0)
    out.setdefault("latency", []).extend(latencies)
    out["frames"] = out.get("frames", 0) + frames


def cluster_run(pg: str, servers: int, sessions: int, turns: int) -> dict:
    url = fresh_database(pg)
    procs = [start_server(url) for _ in range(servers)]
    try:
        out: dict = {}
        threads = [threading.Thread(target=drive, args=(procs[i % servers][1], turns, out)) for i in range(sessions)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
    finally:
        for p, _ in procs:
            p.terminate()
            p.wait(20)
    lat = sorted(out["latency"])
    return {"turns/s": len(lat) / wall, "frames/s": out["frames"] / wall, "p50": statistics.median(lat),
            "p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))]}


def ray_overhead(segments: int) -> tuple[float, float]:
    """Mean seconds per segment: in-process vs through a local Ray Serve deployment (tiny LTX)."""
    import tempfile

    import ray
    import torch
    from ray import serve

    from renderer.video import load_video_renderer
    from renderer.video.ray_serve import RayVideoRenderer, deploy
    from renderer.video.tiny import save_tiny, synthetic_geometry

    torch.set_num_threads(1)
    geo = synthetic_geometry(9, width=64, height=64)
    with tempfile.TemporaryDirectory() as tmp:
        save_tiny("ltx", Path(tmp) / "ltx")
        ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            address = ray.get_runtime_context().gcs_address
            deploy(str(Path(tmp) / "ltx"), address)
            times = {}
            for name, r in (("local", load_video_renderer(Path(tmp) / "ltx", steps=2, size=(64, 64))),
                            ("ray", RayVideoRenderer(address, steps=2, size=(64, 64)))):
                r.start(0, 24)
                r.render_segment("warm up", geo, step=0)
                t0 = time.perf_counter()
                for k in range(segments):
                    r.render_segment("a red ball slides", geo, step=k)
                times[name] = (time.perf_counter() - t0) / segments
        finally:
            serve.shutdown()
            ray.shutdown()
    return times["local"], times["ray"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--turns", type=int, default=8)
    p.add_argument("--segments", type=int, default=10)
    p.add_argument("--ray-only", action="store_true")
    a = p.parse_args()
    if not a.ray_only:
        with postgres_server() as pg:
            print(f"{a.sessions} sessions x {a.turns} turns of 0.25 s (6 frames), one client each, scripted planner")
            print(f"{'servers':>8} {'turns/s':>8} {'frames/s':>9} {'p50 s':>7} {'p99 s':>7}")
            for servers in (1, 2):
                r = cluster_run(pg, servers, a.sessions, a.turns)
                print(f"{servers:>8} {r['turns/s']:8.2f} {r['frames/s']:9.1f} {r['p50']:7.2f} {r['p99']:7.2f}")
    local, remote = ray_overhead(a.segments)
    print(f"\ntiny LTX segment (9 frames, 64x64, 2 steps): in-process {1000 * local:.0f} ms, through Ray Serve "
          f"{1000 * remote:.0f} ms (overhead {1000 * (remote - local):.0f} ms)")


if __name__ == "__main__":
    main()
