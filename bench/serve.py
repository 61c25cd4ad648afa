"""Load benchmark for the streaming server, on loopback only.

Starts the server in a subprocess, opens N sessions with one player each (head poses at --rate Hz,
mono), adds --spectators to the first session and one stalled client (never reads) to the
second, and measures for --duration seconds: frames/s per client, p50/p99 push latency (server
render finished → client received; same machine clock), server RSS at start and end, dropped
sessions, and whether the stalled client's session kept up with the others.

    python bench/serve.py                       # 50 sessions, 60 s
    python bench/serve.py --duration 15         # shortened
    python bench/serve.py --sessions 4 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.stats import percentile  # noqa: E402


def serve_main(port: int) -> None:
    """The server process: prints its key, then serves until killed."""
    import tempfile

    import uvicorn

    from server.app import ServerConfig, create_app
    from server.run import uvicorn_config

    with tempfile.TemporaryDirectory(prefix="callosum-bench-") as tmp:
        config = ServerConfig(scenes_dir=ROOT / "scenes", db=Path(tmp) / "sessions.db", max_sessions=256)
        print(json.dumps({"key": config.server_key}), flush=True)
        uvicorn.Server(uvicorn_config(create_app(config), "127.0.0.1", port)).run()



class Client:
    def __init__(self, name: str, session: dict, token: str, player: bool):
        self.name, self.session, self.token, self.player = name, session, token, player
        self.frames = 0
        self.latencies: list[float] = []
        self.last_frame_at = 0.0
        self.closed: str | None = None

    async def run(self, base: str, rate: float, stop: asyncio.Event, measuring: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(f"{base}{self.session['ws_url']}", max_size=None, open_timeout=60) as ws:
                await ws.send(json.dumps({"type": "auth", "token": self.token}))
                tasks = [asyncio.create_task(self._recv(ws, measuring))]
                if self.player:
                    tasks.append(asyncio.create_task(self._poses(ws, rate, stop)))
                await stop.wait()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        except Exception as exc:  # reported as a dropped client
            self.closed = f"{type(exc).__name__}: {exc}"

    async def _recv(self, ws, measuring: asyncio.Event) -> None:
        async for data in ws:
            if isinstance(data, bytes):
                now = time.time() * 1000.0
                (n,) = struct.unpack(">I", data[:4])
                header = json.loads(data[4 : 4 + n])
                self.last_frame_at = time.monotonic()
                if measuring.is_set():
                    self.frames += 1
                    self.latencies.append(now - header["rendered_at"])
        self.closed = self.closed or "server closed the socket"

    async def _poses(self, ws, rate: float, stop: asyncio.Event) -> None:
        phase = hash(self.name) % 100 / 100.0
        t0 = time.monotonic()
        k = 0
        while not stop.is_set():
            yaw = 0.3 * math.sin(2 * math.pi * (0.25 * (time.monotonic() - t0) + phase))
            pose = {"type": "pose", "orientation": [0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)], "stereo": False}
            await ws.send(json.dumps(pose))
            k += 1
            await asyncio.sleep(max(0.0, t0 + k / rate - time.monotonic()))


def stalled_socket(port: int, path: str, token: str):
    from tests.server_util import stalled_client

    return stalled_client(port, path, token)


async def bench(args) -> dict:
    import httpx
    import psutil

    port = args.port
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        key = json.loads(proc.stdout.readline())["key"]
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for _ in range(200):
                try:
                    if (await http.get("/api/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            admin = {"Authorization": f"Bearer {key}"}
            scenes = (await http.get("/api/scenes")).json()["scenes"]
            t0 = time.monotonic()
            sessions = []
            for i in range(args.sessions):
                r = await http.post("/api/sessions", json={"scene": scenes[i % len(scenes)]}, headers=admin)
                r.raise_for_status()
                sessions.append(r.json())
            setup_s = time.monotonic() - t0  # the render threads make their GL contexts lazily
            server = psutil.Process(proc.pid)
            clients = [Client(f"player-{i}", s, s["player_token"], True) for i, s in enumerate(sessions)]
            clients += [Client(f"spectator-{j}", sessions[0], sessions[0]["spectator_token"], False)
                        for j in range(args.spectators)]
            stop, measuring = asyncio.Event(), asyncio.Event()
            tasks = [asyncio.create_task(c.run(f"ws://127.0.0.1:{port}", args.rate, stop, measuring)) for c in clients]
            stalled = None
            if len(sessions) > 1:
                stalled = stalled_socket(port, sessions[1]["ws_url"], sessions[1]["spectator_token"])
            warm_until = time.monotonic() + 120  # every client has a frame (each GL context is made) first
            while time.monotonic() < warm_until and not all(c.last_frame_at for c in clients):
                await asyncio.sleep(0.5)
            await asyncio.sleep(args.warmup)
            rss_start = server.memory_info().rss
            rss_samples = [rss_start]
            measuring.set()
            t_start = time.monotonic()
            while time.monotonic() - t_start < args.duration:
                await asyncio.sleep(min(5.0, args.duration - (time.monotonic() - t_start)))
                rss_samples.append(server.memory_info().rss)
            measured = time.monotonic() - t_start
            measuring.clear()
            listing = (await http.get("/api/sessions", headers=admin)).json()["sessions"]
            rss_end = server.memory_info().rss
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            if stalled is not None:
                stalled.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()

    players = [c for c in clients if c.player]
    fps = [c.frames / measured for c in clients]
    lat = [x for c in clients for x in c.latencies]
    others = [c.frames / measured for c in players[2:]] or [c.frames / measured for c in players]
    dropped = [f"{c.name}: {c.closed}" for c in clients if c.closed]
    return {
        "sessions": args.sessions, "clients": len(clients), "spectators_on_session_0": args.spectators,
        "pose_rate_hz": args.rate, "measured_s": round(measured, 1), "setup_s": round(setup_s, 1),
        "frames_per_s_per_client": {"min": round(min(fps), 1), "median": round(statistics.median(fps), 1),
                                    "max": round(max(fps), 1)},
        "spectator_frames_per_s": [round(c.frames / measured, 1) for c in clients if not c.player],
        "push_latency_ms": {"p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2),
                            "max": round(max(lat), 2) if lat else None, "samples": len(lat)},
        "server_rss_mb": {"start": round(rss_start / 2**20, 1), "end": round(rss_end / 2**20, 1),
                          "samples": [round(r / 2**20, 1) for r in rss_samples]},
        "sessions_listed_at_end": len(listing), "dropped_clients": dropped,
        "stalled_session_player_fps": round(players[1].frames / measured, 1) if len(players) > 1 else None,
        "other_players_median_fps": round(statistics.median(others), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--spectators", type=int, default=5)
    ap.add_argument("--duration", type=float, default=60.0, help="measured seconds (at most 60)")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--rate", type=float, default=72.0, help="head poses per second per player")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve_main(args.serve)
        return
    args.duration = min(args.duration, 60.0)
    result = asyncio.run(asyncio.wait_for(bench(args), timeout=args.duration + args.warmup + 300))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
