"""The server's edges over real sockets: body limits before auth, Host and Origin allow-lists, strict
JSON (422, never a 500 or a traceback), security headers, and REST and WebSocket message fuzz."""

from __future__ import annotations

import json
import socket
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from simulator.limits import LIMITS  # noqa: E402
from tests.server_util import auth, live_server, recv_json  # noqa: E402


@pytest.fixture(scope="module")
def srv():
    with live_server(allow_origins=("https://tunnel.example",)) as s:
        yield s


@pytest.fixture(scope="module")
def sess(srv):
    return srv.create("ball-off-table")


def raw_http(port: int, head: str, body: bytes = b"", *, stream: int = 0, chunk: int = 65536) -> tuple[int, dict, bytes]:
    """Send one request over a raw socket (optionally `stream` more body bytes); the status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        sent, zeros = 0, b"\0" * chunk
        try:
            while sent < stream:
                sock.sendall(zeros)
                sent += chunk
        except OSError:  # the server answered and closed: the rest was never read
            pass
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 4 + _length(data):
            try:
                part = sock.recv(65536)
            except OSError:
                break
            if not part:
                break
            data += part
    head_text, _, rest = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return int(lines[0].split()[1]), headers, rest


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _error(body: bytes) -> dict:
    err = json.loads(body)["error"]
    assert "Traceback" not in err["message"] and "File \"" not in err["message"]
    return err


# ---- body limits before authentication -----------------------------------------------------------


def test_a_huge_declared_body_is_refused_before_auth(srv):
    t0 = time.monotonic()
    status, headers, body = raw_http(srv.port, f"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                                     f"Content-Type: application/json\r\nContent-Length: {2 ** 30}\r\n",
                                     stream=4 * 1024 * 1024)
    assert status == 413 and _error(body)["code"] == "too_large"
    assert str(LIMITS.max_request_bytes) in _error(body)["message"]
    assert time.monotonic() - t0 < 10


def test_a_streamed_body_is_cut_off_at_the_limit(srv):
    head = (f"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n")
    chunk = b"\0" * 32768
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(8))
    status, _, reply = raw_http(srv.port, head, body)
    assert status == 413 and _error(reply)["code"] == "too_large"


# ---- strict JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize("body, status, code", [
    ('{"scene": "ball-off-table", "x": NaN}', 422, "bad_json"),
    ('{"scene": Infinity}', 422, "bad_json"),
    ('{"scene": 1e999}', 422, "bad_json"),
    ("[" * 1000 + "]" * 1000, 422, "bad_json"),
    ('{"scene": "ball-off-table", "extra": 1}', 422, "bad_request"),
    ('{"scene": 5}', 422, "bad_request"),
    ('{"scene": "ball-off-table", "name": 7}', 422, "bad_request"),
    ('{"scene": "ball-off-table\\n"}', 400, "bad_scene"),
    ('{"scene": "ball-off-table", "name": "x\\n"}', 400, "bad_name"),
    ("{not json", 422, "bad_json"),
])
def test_bad_bodies_get_json_errors(srv, body, status, code):
    r = srv.http.post("/api/sessions", content=body, headers={**srv.admin(), "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert _error(r.content)["code"] == code


def test_unauthenticated_nan_is_refused_the_same_way(srv):
    r = srv.http.post("/api/sessions", content='{"scene": NaN}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and _error(r.content)["code"] == "bad_json"


def test_an_internal_error_is_a_json_500_without_internals(srv, monkeypatch):
    def broken():
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(srv.app.state.manager, "scene_names", broken)
    r = srv.http.get("/api/scenes")
    assert r.status_code == 500 and _error(r.content)["code"] == "server_error"
    assert "secret" not in r.text and "RuntimeError" not in r.text


# ---- Host, Origin and headers ------------------------------------------------------------------


@pytest.mark.parametrize("host, ok", [
    ("127.0.0.1:{port}", True), ("localhost:{port}", True), ("[::1]:{port}", True), ("tunnel.example", True),
    ("evil.example", False), ("evil.example:{port}", False), ("127.0.0.1.evil.example", False), ("", False),
])
def test_the_host_header_must_name_this_server(srv, host, ok):
    status, _, body = raw_http(srv.port, f"GET /api/health HTTP/1.1\r\nHost: {host.format(port=srv.port)}\r\n")
    assert (status == 200) == ok, body
    if not ok:
        assert _error(body)["code"] == "bad_host"


@pytest.mark.parametrize("origin, ok", [
    (None, True), ("http://127.0.0.1:{port}", True), ("https://tunnel.example", True),
    ("http://evil.example", False), ("http://127.0.0.1:1", False), ("null", False),
])
def test_websocket_and_rest_origins_are_checked(srv, sess, origin, ok):
    origin = origin.format(port=srv.port) if origin else None
    headers = {"Origin": origin} if origin else {}
    r = srv.http.post("/api/sessions", json={"scene": "no-such"}, headers={**srv.admin(), **headers})
    assert (r.status_code == 404) == ok and (ok or _error(r.content)["code"] == "bad_origin"), r.text
    if ok:
        with connect(srv.ws_base + sess["ws_url"], origin=origin, open_timeout=10) as ws:
            assert auth(ws, sess["spectator_token"])["role"] == "spectator"
    else:
        with pytest.raises(InvalidStatus) as info:
            connect(srv.ws_base + sess["ws_url"], origin=origin, open_timeout=10)
        assert info.value.response.status_code == 403


def test_every_response_carries_the_security_headers(srv):
    for path in ("/", "/app.js", "/api/health", "/api/sessions", "/no-such-file"):
        r = srv.http.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"


# ---- fuzz -------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False)
                    | st.text(max_size=40), lambda inner: st.lists(inner, max_size=5)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=30)
FIELDS = st.sampled_from(["type", "action", "text", "events", "duration", "position", "orientation", "ipd", "step", "t",
                          "token", "mode", "stereo", "entity", "impulse"])
MESSAGES = st.one_of(
    st.dictionaries(FIELDS, JSON, max_size=6).map(json.dumps),
    st.builds(lambda kind, extra: json.dumps({"type": kind, **extra}),
              st.sampled_from(["action", "pose", "rewind", "ping", "view", "cancel", "auth", "teleport"]),
              st.dictionaries(FIELDS, JSON, max_size=4)),
    JSON.map(json.dumps),
    st.text(max_size=200),
    st.integers(1, 3000).map(lambda n: "[" * n),
    st.sampled_from(['{"type": "ping", "t": NaN}', '{"type": "pose", "ipd": Infinity}', '{"type": "rewind", "step": '
                     + "9" * 400 + "}", '{"type": "rewind", "step": "0"}', '{"type": "action", "action": "x", '
                     '"events": [' + ",".join(['{"type": "remove", "entity": "ball"}'] * 5) + "]}"]),
)


def test_websocket_message_fuzz_never_breaks_the_socket(srv, sess):
    seen = {"n": 0}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(MESSAGES)
    def one(text):
        ws.send(text)
        seen["n"] += 1
        if seen["n"] % 10 == 0:  # the socket still answers (fuzzed pings get their own pongs first)
            marker = -0.5 - seen["n"]
            ws.send(json.dumps({"type": "ping", "t": marker}))
            deadline = time.monotonic() + 10
            while recv_json(ws, "pong", timeout=max(0.1, deadline - time.monotonic()))["t"] != marker:
                pass

    with connect(srv.ws_base + sess["ws_url"], open_timeout=10, max_size=2 ** 22) as ws:
        auth(ws, sess["spectator_token"])  # a spectator: errors for everything that would act
        one()
        ws.send(json.dumps({"type": "ping", "t": -0.25}))
        while recv_json(ws, "pong", timeout=10)["t"] != -0.25:
            pass


def test_a_deeply_nested_websocket_message_is_an_error_not_a_crash(srv, sess):
    with connect(srv.ws_base + sess["ws_url"], open_timeout=10) as ws:
        auth(ws, sess["player_token"])
        ws.send("[" * 1000)
        err = recv_json(ws, "error")
        assert err["code"] == "bad_json" and "deeper than 16" in err["message"]
        ws.send(json.dumps({"type": "rewind", "step": "0"}))
        assert recv_json(ws, "error")["field"] == "step"  # strict: "0" is not 0
        ws.send(json.dumps({"type": "ping", "t": 1}))
        assert recv_json(ws, "pong")["t"] == 1


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=st.one_of(JSON.map(json.dumps), st.text(max_size=300),
                      st.dictionaries(st.sampled_from(["scene", "name", "width", "height", "x"]), JSON,
                                      max_size=4).map(json.dumps)),
       admin=st.booleans())
def test_rest_fuzz_never_gets_a_500(srv, body, admin):
    headers = {"Content-Type": "application/json", **(srv.admin() if admin else {})}
    r = srv.http.post("/api/sessions", content=body, headers=headers)
    assert r.status_code in (201, 400, 401, 404, 409, 413, 422, 429), (body, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code == 201:
        srv.http.delete(f"/api/sessions/{r.json()['session']}", headers=srv.admin())
    else:
        _error(r.content)


def test_a_huge_websocket_message_is_refused_before_auth(srv, sess):
    from websockets.exceptions import ConnectionClosed

    with connect(srv.ws_base + sess["ws_url"], open_timeout=10, max_size=None) as ws:
        ws.send("x" * (1 << 20))  # no auth yet: the frame header alone is enough to refuse it
        with pytest.raises(ConnectionClosed) as info:
            while True:
                ws.recv(timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code in (1009, 4401)
