"""`callosum serve` as a real subprocess: --size sets the streamed frame size, and without it a
session streams at twice its scene's render size (so the desktop view is sharp)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi")
import httpx  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from tests.conftest import ROOT, SCENES  # noqa: E402
from tests.server_util import auth, free_port, recv_frame  # noqa: E402


def serve(tmp_path, *args):
    """Start `callosum serve`, wait for its URL line; yields (base URL, server key, process)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--port", str(port), "--scenes-dir", str(SCENES),
                             "--db", str(tmp_path / "s.db"), "--planner", "scripted", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline, seen = time.monotonic() + 60, ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        found = re.search(r"open\s+(http://127\.0\.0\.1:\d+)/#key=(\S+)", line)
        if found:
            base, key = found.groups()
            for _ in range(100):  # the banner comes just before uvicorn binds
                try:
                    if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                        return base, key, proc
                except httpx.HTTPError:
                    time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"serve did not start: {seen}")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def hello_and_frame(base: str, key: str, body: dict):
    r = httpx.post(base + "/api/sessions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 201, r.text
    sess = r.json()
    with connect(base.replace("http", "ws") + sess["ws_url"]) as ws:
        hello = auth(ws, sess["player_token"])
        header, _ = recv_frame(ws)
    return hello, header


@pytest.mark.parametrize("args, size", [([], (640, 480)), (["--size", "480x360"], (480, 360))])
def test_serve_streams_at_the_size_asked(tmp_path, args, size):
    base, key, proc = serve(tmp_path, *args)
    try:
        hello, header = hello_and_frame(base, key, {"scene": "ball-off-table"})
        assert (hello["width"], hello["height"]) == size == (header.width, header.height)
        hello, header = hello_and_frame(base, key, {"scene": "bowling", "width": 400, "height": 300})
        assert (hello["width"], hello["height"]) == (400, 300)  # the session's own size wins
    finally:
        stop(proc)


def test_serve_refuses_a_size_out_of_range(tmp_path):
    result = subprocess.run([sys.executable, "-m", "agent", "serve", "--size", "3000x2000", "--scenes-dir",
                             str(SCENES), "--db", str(tmp_path / "s.db")], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2
    assert "--size 3000x2000 is out of range" in " ".join(result.stderr.split())
