"""Two real `callosum serve` processes sharing one Postgres: a session driven through A survives A's
SIGKILL mid-turn; B takes it over (at once when Postgres sees A's connection close, at the latest
after the lease TTL) and goes on from the last commit; nothing committed is lost or duplicated and
the replay is bit-identical. B's refusal while A lives names A's advertised address."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("psycopg")

from websockets.sync.client import connect

from agent.turns.replay import replay
from agent.turns.sessions import SessionDB
from tests._sessions_util import ROOT
from tests.server_util import auth, free_port, recv_frame

KEY = "shared-test-key"
TTL_S = 3.0
FLICK = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.3, 0, 0]}]


@contextmanager
def serve(url: str, port: int):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CALLOSUM_SERVER_KEY": KEY, "CALLOSUM_LEASE_TTL_S": str(TTL_S),
           "CALLOSUM_ADVERTISE": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--db", url, "--port", str(port),
                             "--scenes-dir", str(ROOT / "scenes"), "--planner", "scripted"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                        headers={"Authorization": f"Bearer {KEY}"})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if http.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        yield proc, http, f"ws://127.0.0.1:{port}"
    finally:
        http.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _turn(ws, text: str, duration: float = 0.25) -> None:
    ws.send(json.dumps({"type": "action", "action": text, "events": FLICK, "duration": duration}))
    deadline = time.monotonic() + 60
    while True:
        data = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(data, str):
            m = json.loads(data)
            if m["type"] == "progress" and m["stage"] in ("done", "failed", "cancelled"):
                assert m["stage"] == "done", m
                return


def test_sigkill_mid_turn_then_the_other_server_goes_on(postgres_base):
    from tests.pg_util import fresh_database

    url = fresh_database(postgres_base)
    port_a, port_b = free_port(), free_port()
    with serve(url, port_a) as (proc_a, http_a, ws_a), serve(url, port_b) as (_proc_b, http_b, ws_b):
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(6) as pool:  # both servers pick names at the same moment
            made = list(pool.map(lambda http: http.post("/api/sessions", json={"scene": "ball-off-table"}),
                                 [http_a, http_b] * 3))
        assert [r.status_code for r in made] == [201] * 6, [r.text for r in made]
        assert len({r.json()["session"] for r in made}) == 6
        for http, r in zip([http_a, http_b] * 3, made):
            assert http.delete(f"/api/sessions/{r.json()['session']}").status_code in (200, 204)
        sess = http_a.post("/api/sessions", json={"scene": "ball-off-table"}).json()
        name = sess["session"]
        with connect(ws_a + sess["ws_url"], open_timeout=10) as ws:
            auth(ws, sess["player_token"])
            _turn(ws, "a one")
            refused = http_b.post(f"/api/sessions/{name}/open")
            assert refused.status_code == 409 and f"at http://127.0.0.1:{port_a}" in refused.json()["error"]["message"]
            saved = {s["session"]: s for s in http_b.get("/api/sessions").json()["saved"]}
            assert saved[name]["step"] == 1  # B sees A's session and its last commit
            ws.send(json.dumps({"type": "action", "action": "a doomed", "events": FLICK, "duration": 4.0}))
            while True:  # mid-turn: after simulate started
                data = ws.recv(timeout=30)
                if isinstance(data, str) and json.loads(data).get("stage") in ("render", "commit", "play"):
                    break
            os.kill(proc_a.pid, signal.SIGKILL)
            killed = time.monotonic()
        proc_a.wait(10)
        while True:
            opened = http_b.post(f"/api/sessions/{name}/open")
            if opened.status_code == 200:
                break
            assert opened.status_code == 409 and time.monotonic() - killed < TTL_S + 5, opened.text
            time.sleep(0.05)
        back_s = time.monotonic() - killed
        assert back_s <= TTL_S + 1.0, back_s
        again = opened.json()
        with connect(ws_b + again["ws_url"], open_timeout=10) as ws, \
                connect(ws_b + again["ws_url"], open_timeout=10) as watcher:
            hello = auth(ws, again["player_token"])
            auth(watcher, again["spectator_token"])
            assert [t["action"] for t in hello["history"]] in (["a one"], ["a one", "a doomed"])
            _turn(ws, "b one")
            header, _jpeg = recv_frame(watcher, timeout=30)
            assert header.width > 0
    with SessionDB(url, create=False) as db:
        actions = [t.action for t in db.turns(name)]
        assert actions in (["a one", "b one"], ["a one", "a doomed", "b one"]), actions  # nothing lost or doubled
        report = replay(db, name)
        assert report.identical and len(report.steps) == len(actions)
