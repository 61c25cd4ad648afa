"""One client's WebSocket: authenticate, then read messages under size and rate limits."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from simulator.limits import LIMITS
from server.protocol import (
    SCHEMA_VERSION,
    ActionMsg,
    AuthMsg,
    CancelMsg,
    ErrorMsg,
    HelloMsg,
    PingMsg,
    PongMsg,
    PoseMsg,
    ProtocolError,
    RewindMsg,
    StreamMsg,
    ViewMsg,
    parse_client,
)
from server.codec import have_h264
from server.jobs import RewindJob, TurnJob
from server.live import ServedSession, TurnError
from server.streaming import Outbox
from server.headpose import home_pitch

log = logging.getLogger("callosum.server")

CLOSE_UNAUTHORIZED = 4401
CLOSE_FULL = 4429


@dataclass
class SocketLimits:
    """Per-socket limits (also sent to the client in ``hello``)."""

    max_message_bytes: int = LIMITS.max_message_bytes
    """Largest text message the app reads; uvicorn's ws_max_size closes the socket far above this."""
    messages_per_second: float = 150.0
    """Sustained message rate (head poses at 90 Hz fit with room to spare)."""
    burst: float = 300.0
    """Messages allowed at once before the rate applies."""
    auth_timeout_s: float = 5.0
    """Time to send the ``auth`` message after connecting."""
    max_clients_per_session: int = 32
    """Players and spectators together."""


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


async def _refuse(ws: WebSocket, code: int, error: ErrorMsg) -> None:
    try:
        await asyncio.wait_for(ws.send_text(error.model_dump_json()), 2.0)
        await asyncio.wait_for(ws.close(code=code, reason=error.code), 2.0)
    except Exception:  # the client is already gone
        pass


async def _authenticate(ws: WebSocket, session: ServedSession | None, limits: SocketLimits) -> str | None:
    try:
        text = await asyncio.wait_for(ws.receive_text(), limits.auth_timeout_s)
    except asyncio.TimeoutError:
        await _refuse(ws, CLOSE_UNAUTHORIZED, ErrorMsg(code="unauthorized", message=(
            f"no auth message within {limits.auth_timeout_s:g} s; send {{\"type\": \"auth\", \"token\": ...}} "
            "first")))
        return None
    except (KeyError, WebSocketDisconnect):  # a binary first message, or a client that left
        await _refuse(ws, CLOSE_UNAUTHORIZED, ErrorMsg(code="unauthorized", message=(
            "the first message must be a JSON text message {\"type\": \"auth\", \"token\": ...}")))
        return None
    try:
        msg = parse_client(text[: limits.max_message_bytes])
    except ProtocolError as exc:
        await _refuse(ws, CLOSE_UNAUTHORIZED, exc.error)
        return None
    if not isinstance(msg, AuthMsg):
        await _refuse(ws, CLOSE_UNAUTHORIZED, ErrorMsg(code="unauthorized", field="type", value=msg.type, message=(
            f"the first message must be auth, got {msg.type!r}; send {{\"type\": \"auth\", \"token\": ...}}")))
        return None
    if msg.schema_version != SCHEMA_VERSION:
        await _refuse(ws, CLOSE_UNAUTHORIZED, ErrorMsg(
            code="bad_message", field="schema_version", value=msg.schema_version,
            message=f"this server speaks protocol version {SCHEMA_VERSION}; update the client"))
        return None
    role = session.role_for(msg.token) if session is not None else None
    if role is None:  # one answer for an unknown session and a wrong token, so neither can be probed
        await _refuse(ws, CLOSE_UNAUTHORIZED, ErrorMsg(code="unauthorized", field="token", message=(
            "this token does not open this session; use the player or spectator token that "
            "POST /api/sessions returned for it")))
        return None
    return role


async def serve_socket(ws: WebSocket, session: ServedSession | None, limits: SocketLimits) -> None:
    """Run one client from connect to disconnect. Never raises for anything the client sends."""
    await ws.accept()
    role = await _authenticate(ws, session, limits)
    if role is None:
        return
    if len(session.broadcaster.clients) >= limits.max_clients_per_session:
        await _refuse(ws, CLOSE_FULL, ErrorMsg(code="busy", message=(
            f"this session already has {limits.max_clients_per_session} clients (the limit); try again later")))
        return
    outbox = Outbox(ws, role)
    hello = HelloMsg(session=session.id, scene=session.scene_name, role=role, width=session.width,
                     height=session.height, fov_y=session.scene.camera.fov, home_pitch=home_pitch(session.scene),
                     step=session.step, limits={k: float(v) for k, v in asdict(limits).items()},
                     description=session.scene.description or "", view=session.view,
                     history=session.hello_history())
    outbox.put_message(hello.model_dump_json())
    if session.last_state:
        outbox.put_state(session.last_state)
    session.broadcaster.add(outbox)
    session.request_frame()
    sender = asyncio.create_task(outbox.run())
    reader = asyncio.create_task(_read(ws, session, outbox, limits))
    try:
        await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        session.broadcaster.remove(outbox)
        for task in (sender, reader):
            task.cancel()
        await asyncio.gather(sender, reader, return_exceptions=True)
        if ws.application_state != WebSocketState.DISCONNECTED:
            try:
                await asyncio.wait_for(ws.close(), 2.0)
            except Exception:
                pass


def _stream(outbox: Outbox, msg: StreamMsg, error) -> None:
    if msg.codec == "h264" and not have_h264():
        error("unsupported", "this server has no H.264 encoder (pip install av); frames stay JPEG", "codec", "h264")
    else:
        outbox.set_codec(msg.codec, msg.age_ms, msg.kbps)


async def _read(ws: WebSocket, session: ServedSession, outbox: Outbox, limits: SocketLimits) -> None:
    bucket = TokenBucket(limits.messages_per_second, limits.burst)
    last_rate_error = 0.0

    def error(code: str, message: str, field=None, value=None) -> None:
        droppable = code != "rate_limited"  # that one is sent at most once a second, and must arrive
        outbox.put_message(ErrorMsg(code=code, message=message, field=field, value=value).model_dump_json(),
                           droppable)

    while True:
        event = await ws.receive()
        if event["type"] == "websocket.disconnect":
            return
        text = event.get("text")
        size = len(text.encode()) if text is not None else len(event.get("bytes") or b"")
        if not bucket.take():
            now = time.monotonic()
            if now - last_rate_error > 1.0:  # one notice per second, so errors never amplify a flood
                last_rate_error = now
                error("rate_limited", f"more than {limits.messages_per_second:g} messages/s; messages are being "
                      "dropped; send head poses at most once per display frame")
            continue
        if text is None:
            error("bad_message", "binary messages are not accepted from clients; send JSON text messages")
            continue
        if size > limits.max_message_bytes:
            error("too_large", f"message is {size} bytes; the limit is {limits.max_message_bytes}", "message", size)
            continue
        try:
            msg = parse_client(text)
        except ProtocolError as exc:
            outbox.put_message(exc.error.model_dump_json(), True)
            continue
        if isinstance(msg, PingMsg):
            outbox.put_message(PongMsg(t=msg.t, server_time=time.time() * 1000.0).model_dump_json(), True)
        elif isinstance(msg, AuthMsg):
            error("bad_message", "already authenticated; auth is only the first message", "type", "auth")
        elif isinstance(msg, StreamMsg):  # this client's own stream: spectators choose theirs too
            _stream(outbox, msg, error)
        elif outbox.role != "player":
            error("forbidden", f"spectator tokens are read-only; '{msg.type}' needs the session's player token",
                  "type", msg.type)
        elif isinstance(msg, PoseMsg):
            session.set_pose(msg)
        elif isinstance(msg, ViewMsg):
            session.set_view(msg.mode)
        elif isinstance(msg, CancelMsg):
            try:
                session.cancel()
            except TurnError as exc:
                error(exc.code, str(exc), exc.field, exc.value)
        elif isinstance(msg, (ActionMsg, RewindMsg)):
            try:
                session.submit(TurnJob(request=msg.to_request(), origin=outbox) if isinstance(msg, ActionMsg)
                               else RewindJob(step=msg.step, origin=outbox))
            except TurnError as exc:
                error(exc.code, str(exc), exc.field, exc.value)
