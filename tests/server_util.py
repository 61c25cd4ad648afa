"""A real server on a free loopback port, in a thread of the test process, for the server tests."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import SCENES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, config, port: int):
        self.app, self.config, self.port = app, config, port
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"
        self.key = config.server_key
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def admin(self) -> dict:
        return {"Authorization": f"Bearer {self.key}"}

    def create(self, scene: str = "ball-off-table") -> dict:
        r = self.http.post("/api/sessions", json={"scene": scene}, headers=self.admin())
        assert r.status_code == 201, r.text
        return r.json()


@contextmanager
def live_server(**overrides):
    """A served app; its session database is `db=` or a fresh one in a temporary folder, on `port=`
    or a free one."""
    if "db" not in overrides:
        with tempfile.TemporaryDirectory(prefix="callosum-serve-") as tmp, \
                live_server(db=Path(tmp) / "sessions.db", **overrides) as live:
            yield live
        return
    import uvicorn

    from server.app import ServerConfig, create_app
    from server.run import uvicorn_config

    port = overrides.pop("port", None) or free_port()  # a fixed port: a restart at the same address
    config = ServerConfig(scenes_dir=overrides.pop("scenes_dir", SCENES), **overrides)
    app = create_app(config)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    live = LiveServer(app, config, port)
    try:
        yield live
    finally:
        live.http.close()
        server.should_exit = True
        thread.join(20)


def auth(ws, token: str) -> dict:
    ws.send(json.dumps({"type": "auth", "token": token}))
    return recv_json(ws, "hello")


def recv_json(ws, want: str, timeout: float = 10.0) -> dict:
    """Next JSON message of type `want`, skipping frames and other types."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {want!r} message within {timeout} s"
        data = ws.recv(timeout=left)
        if isinstance(data, str):
            msg = json.loads(data)
            if msg["type"] == want:
                return msg


def recv_raw(ws, where, timeout: float = 60.0) -> bytes:
    """The next binary frame message (raw bytes: header, image, depth) whose header `where` accepts."""
    from server.protocol import unpack_frame

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(data, bytes) and where(unpack_frame(data)[0]):
            return data
    raise AssertionError(f"no matching frame within {timeout} s")


def recv_frame(ws, timeout: float = 10.0, where=None):
    """Next binary frame (header dict, jpeg bytes), optionally the first matching `where(header)`."""
    from server.protocol import unpack_frame

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no frame within {timeout} s"
        data = ws.recv(timeout=left)
        if isinstance(data, bytes):
            header, jpeg = unpack_frame(data)
            if where is None or where(header):
                return header, jpeg


def stalled_client(port: int, path: str, token: str) -> socket.socket:
    """A WebSocket client that authenticates and then never reads (a tiny receive window)."""
    import base64
    import os
    import struct

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    payload = json.dumps({"type": "auth", "token": token}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    sock.sendall(struct.pack("BB", 0x81, 0x80 | len(payload)) + mask + masked)
    return sock
