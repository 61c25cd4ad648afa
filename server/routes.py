"""The REST and WebSocket routes, as routers; who may call what is a dependency (``Depends``).

Three kinds of caller: the *admin* (the server key ``callosum serve`` printed), a session's
*player* and its *spectators* (the two tokens a create or open returned). The dependencies below
turn the ``Authorization`` header into one of those, or an :class:`ApiError` (401/403).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.turns.replay import export
from agent.turns.sessions import SessionError
from server.live import ServedSession
from server.manager import SessionLookupError, SessionManager
from server.protocol import SCHEMA_VERSION, protocol_schema
from server.ws import serve_socket

log = logging.getLogger("callosum.server")


class ApiError(Exception):
    """A refused request; the handler in :mod:`server.app` turns it into a JSON error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, value: Any = None):
        super().__init__(message)
        self.status, self.code, self.field, self.value = status, code, field, value


class CreateSession(BaseModel):
    """Body of ``POST /api/sessions``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scene: StrictStr = Field(max_length=64, description="Bare scene name from GET /api/scenes, e.g. "
                             "'ball-off-table'.")
    """Bare scene name from GET /api/scenes."""
    name: StrictStr | None = Field(default=None, max_length=64, description="Session name in the database "
                                   "(default: the scene name and a number, e.g. 'ball-off-table-1').")
    """Session name (default: the scene name and a number)."""
    width: int | None = Field(default=None, ge=32, le=1920, description="Streamed frame width per eye in pixels "
                              "(default: the server's --size); give height too.")
    """Streamed frame width per eye (pixels)."""
    height: int | None = Field(default=None, ge=32, le=1080, description="Streamed frame height in pixels "
                               "(default: the server's --size); give width too.")
    """Streamed frame height (pixels)."""

    @model_validator(mode="after")
    def _size(self) -> CreateSession:
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height (pixels per eye, e.g. 960 and 720), or neither")
        return self


class SessionCreated(BaseModel):
    """A created or opened session and its two fresh tokens. Only this response ever shows them."""

    session: str
    """Session name."""
    scene: str
    """Scene name."""
    player_token: str = Field(description="Lets a client act (action, pose, rewind). Share with care.")
    """Lets a client act."""
    spectator_token: str = Field(description="Read-only: watch frames and state.")
    """Read-only token."""
    ws_url: str = Field(description="WebSocket path; send {'type': 'auth', 'token': ...} first.")
    """WebSocket path."""
    player_url: str = Field(description="Web client link that joins as the player.")
    """Web client link for the player."""
    spectator_url: str = Field(description="Web client link that joins as a spectator.")
    """Web client link for spectators."""


@dataclass
class Access:
    """Who is asking about a session: the session and the caller's role in it."""

    session: ServedSession
    role: str  # "player" | "spectator" | "admin"


# ---- dependencies -------------------------------------------------------------------------------


def manager_of(request: Request) -> SessionManager:
    return request.app.state.manager


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
        raise ApiError(401, "unauthorized", "send the token as an 'Authorization: Bearer <token>' header",
                       "Authorization")
    return authorization[len("Bearer "):].strip()


def _is_admin(request: Request, token: str) -> bool:
    return secrets.compare_digest(token.encode(), request.app.state.config.server_key.encode())


def require_admin(request: Request, token: Annotated[str, Depends(bearer)]) -> None:
    if not _is_admin(request, token):
        raise ApiError(403, "forbidden", "this needs the server key that `callosum serve` printed "
                       "(the #key=... part of its URL)", "Authorization")


def session_access(sid: str, request: Request, token: Annotated[str, Depends(bearer)]) -> Access:
    """The session's player, a spectator, or the admin; one answer for a missing session and a wrong token."""
    session = manager_of(request).get(sid)
    if session is not None and _is_admin(request, token):
        return Access(session, "admin")
    role = session.role_for(token) if session is not None else None
    if role is None:
        raise ApiError(403, "forbidden", f"no open session {sid[:40]!r} accepts this token; use the player "
                       "or spectator token that POST /api/sessions (or .../open) returned for it",
                       "session", sid[:40])
    return Access(session, role)


def acting_access(access: Annotated[Access, Depends(session_access)]) -> Access:
    """The session's player or the admin (spectator tokens are read-only)."""
    if access.role == "spectator":
        raise ApiError(403, "forbidden", "spectator tokens are read-only; this needs the session's player "
                       "token or the server key", "Authorization")
    return access


Admin = Annotated[None, Depends(require_admin)]
Manager = Annotated[SessionManager, Depends(manager_of)]
AnyRole = Annotated[Access, Depends(session_access)]
Acting = Annotated[Access, Depends(acting_access)]


# ---- routes -------------------------------------------------------------------------------------

public = APIRouter(prefix="/api")
sessions = APIRouter(prefix="/api/sessions")
sockets = APIRouter()


@public.get("/health", summary="Liveness and version")
async def health(manager: Manager) -> dict:
    return {"ok": True, "schema_version": SCHEMA_VERSION, "sessions": len(manager.sessions)}


@public.get("/scenes", summary="Scene names a session can be made from")
async def scenes(manager: Manager) -> dict:
    return {"scenes": manager.scene_names()}


@public.get("/protocol.json", summary="JSON Schemas of every WebSocket message")
async def protocol() -> dict:
    return protocol_schema()


async def _serve(fn, *args) -> SessionCreated:
    try:
        s = await run_in_threadpool(fn, *args)
    except SessionLookupError as exc:
        raise ApiError(exc.status, exc.code, str(exc), exc.field, exc.value) from None
    return SessionCreated(session=s.id, scene=s.scene_name, player_token=s.player_token,
                          spectator_token=s.spectator_token, ws_url=f"/ws/{s.id}",
                          player_url=f"/#session={s.id}&token={s.player_token}",
                          spectator_url=f"/#session={s.id}&token={s.spectator_token}")


@sessions.post("", status_code=201, response_model=SessionCreated,
               summary="Create a session from a scene name (needs the server key)")
async def create(body: CreateSession, manager: Manager, _: Admin) -> SessionCreated:
    size = (body.width, body.height) if body.width is not None else None
    return await _serve(manager.create, body.scene, asyncio.get_running_loop(), body.name, size)


@sessions.post("/{sid}/open", response_model=SessionCreated,
               summary="Serve a saved session again with fresh tokens (needs the server key)")
async def open_saved(sid: str, manager: Manager, _: Admin,
                     take_over: Annotated[bool, Query(description="Drive it even if another process (e.g. "
                                                      "`callosum interact`) drives it now.")] = False
                     ) -> SessionCreated:
    return await _serve(manager.open, sid, asyncio.get_running_loop(), take_over)


@sessions.get("", summary="Open and saved sessions (needs the server key; no tokens shown)")
async def list_sessions(manager: Manager, _: Admin) -> dict:
    saved = await run_in_threadpool(manager.saved)
    return {"sessions": [s.info() for s in list(manager.sessions.values()) if s is not None], "saved": saved}


@sessions.get("/{sid}/state", summary="World state JSON (player or spectator token)")
async def state(access: AnyRole) -> dict:
    session = access.session
    body = json.loads(session.last_state) if session.last_state else {}
    pose = session.pose.model_dump(mode="json") if session.pose else None
    return {"schema_version": SCHEMA_VERSION, "session": session.id, "scene": session.scene_name,
            "role": access.role, "steps": body.get("steps", 0), "busy": session.busy, "view": pose,
            "snapshot_sha": session.snapshot_sha, "state": body.get("state")}


@sessions.get("/{sid}/video.mp4", summary="The session's recorded turns as an MP4 (scene camera)",
              response_class=FileResponse)
async def video(sid: str, request: Request, access: AnyRole, manager: Manager):
    session = access.session
    tmp = Path(tempfile.mkstemp(prefix="callosum-export-", suffix=".mp4")[1])
    async with request.app.state.export_slots:
        t0 = time.perf_counter()
        try:
            frames = await run_in_threadpool(export, manager.db, session.id, out=tmp)
        except SessionError as exc:
            tmp.unlink(missing_ok=True)
            raise ApiError(409, "no_turns", str(exc), "session", session.id) from None
    log.info("exported %s: %d frames in %.2f s", session.id, frames, time.perf_counter() - t0)
    return FileResponse(tmp, media_type="video/mp4", filename=f"{session.scene_name}-{session.id}.mp4",
                        headers={"X-Frame-Count": str(frames)}, background=BackgroundTask(tmp.unlink))


@sessions.delete("/{sid}", status_code=204, response_class=Response,
                 summary="Stop serving a session; it stays saved (player token or server key)")
async def delete(access: Acting, manager: Manager):
    await run_in_threadpool(manager.delete, access.session.id)
    return Response(status_code=204)


@sockets.websocket("/ws/{sid}")
async def socket(websocket: WebSocket, sid: str):
    app = websocket.app
    try:
        await serve_socket(websocket, app.state.manager.get(sid), app.state.config.limits)
    except WebSocketDisconnect:
        pass
