"""A broken OpenAI-compatible server (a real HTTP server on 127.0.0.1) never crashes a turn: every
failure is a BackendError, and the turn falls back to a no-event plan that records why."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from contextlib import contextmanager

import pytest

pytest.importorskip("openai")

from agent.planner.backends import BackendError, make_backend  # noqa: E402
from agent.planner.backends.base import PlanRequest  # noqa: E402
from agent.planner.planner import Planner  # noqa: E402
from agent.turns.episode import Episode  # noqa: E402
from agent.turns.store import BlobStore  # noqa: E402
from agent.turns.turn import TurnRequest  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from tests.conftest import SCENES, run_cli  # noqa: E402

MODELS = json.dumps({"object": "list", "data": [{"id": "broken", "object": "model"}]}).encode()
REPLIES = {
    "non_json": (200, "application/json", b"<html>this is not JSON</html>"),
    "html": (200, "text/html", b"<html>a login page</html>"),
    "not_a_completion": (200, "application/json", json.dumps({"hello": "world", "choices": "none"}).encode()),
    "null_message": (200, "application/json", json.dumps({"id": "x", "object": "chat.completion", "created": 1,
                                                          "model": "broken", "choices": [{"index": 0, "message": None,
                                                                                          "finish_reason": "stop"}]}).encode()),
    "http_500": (500, "text/html", b"<html>Internal Server Error</html>"),
    "reset": None,
}


@contextmanager
def broken_server(mode: str):
    """An HTTP server on a free loopback port that lists a model and answers chat calls with `mode`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, ctype, body):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._send(200, "application/json", MODELS)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if REPLIES[mode] is None:  # drop the connection mid-request
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(*REPLIES[mode])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", sorted(REPLIES))
def test_every_broken_reply_is_a_backend_error(mode):
    with broken_server(mode) as url:
        backend = make_backend("openai", base_url=url, model="broken", retries=0)
        with pytest.raises(BackendError) as info:
            backend.complete(PlanRequest(messages=[{"role": "user", "content": "hi"}], schema={"type": "object"}))
        assert url in str(info.value)


@pytest.mark.parametrize("mode", ["non_json", "not_a_completion", "http_500"])
def test_the_turn_falls_back_to_no_events_and_records_why(mode, tmp_path):
    scene = load_scene(SCENES / "ball-off-table.yaml")
    with broken_server(mode) as url:
        planner = Planner(make_backend("openai", base_url=url, model="broken", retries=0))
        with Episode(scene, BlobStore(tmp_path / "store"), preset="fast", planner=planner) as episode:
            episode.start()
            record = episode.turn(TurnRequest(action="someone flicks the ball toward the edge", duration=0.25))
    assert record.plan.events == [] and record.step == 0 and record.frames == 6
    said = json.dumps(record.problems) + record.plan_record.model_dump_json()
    assert "the planner failed" in said or "BackendError" in said or url in said, said


def test_play_with_a_broken_planner_server_finishes(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text((SCENES / "ball-off-table.yaml").read_text().replace(
        "steps:\n- {action: The ball sits still on the table., duration: 0.5, events: []}",
        "steps:\n- {action: Someone flicks the ball., duration: 0.25}", 1))
    with broken_server("non_json") as url:
        r = run_cli("play", str(path), "--planner", "openai", "--base-url", url, "--model", "broken",
                    "--preset", "fast", "--out", str(tmp_path / "o.mp4"), "--state-out", str(tmp_path / "o.jsonl"))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert (tmp_path / "o.mp4").stat().st_size > 0
