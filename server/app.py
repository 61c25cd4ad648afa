"""The ASGI app: REST for sessions, a WebSocket per session, and the web client's files."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.turns.replay import export
from agent.turns.sessions import SessionError, default_db_path
from server.manager import SessionLookupError, SessionManager
from server.protocol import SCHEMA_VERSION, protocol_schema
from server.ws import Limits, serve_socket

log = logging.getLogger("callosum.server")
WEB_DIR = Path(__file__).parent / "web"


@dataclass
class ServerConfig:
    """How a server runs; ``server_key`` guards creating, opening and listing sessions."""

    scenes_dir: Path
    db: Path | None = None
    """The session database (None: ``callosum interact``'s default)."""
    server_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    planner: object = None
    preset: str = "fast"
    size: tuple[int, int] | None = None
    pace: bool = True
    max_sessions: int = 64
    limits: Limits = field(default_factory=Limits)


class CreateSession(BaseModel):
    """Body of ``POST /api/sessions``."""

    scene: str = Field(description="Bare scene name from GET /api/scenes, e.g. 'ball-off-table'.")
    name: str | None = Field(default=None, description="Session name in the database (default: the scene "
                             "name and a number, e.g. 'ball-off-table-1').")


class SessionCreated(BaseModel):
    """A created or opened session and its two fresh tokens. Only this response ever shows them."""

    session: str
    scene: str
    player_token: str = Field(description="Lets a client act (action, pose, rewind). Share with care.")
    spectator_token: str = Field(description="Read-only: watch frames and state.")
    ws_url: str = Field(description="WebSocket path; send {'type': 'auth', 'token': ...} first.")
    player_url: str = Field(description="Web client link that joins as the player.")
    spectator_url: str = Field(description="Web client link that joins as a spectator.")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, value=None):
        super().__init__(message)
        self.status, self.code, self.field, self.value = status, code, field, value


def _error_body(code: str, message: str, field=None, value=None) -> dict:
    return {"error": {"code": code, "message": message, "field": field, "value": value}}


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
        raise ApiError(401, "unauthorized", "send the token as an 'Authorization: Bearer <token>' header",
                       "Authorization")
    return authorization[len("Bearer "):].strip()


def create_app(config: ServerConfig) -> FastAPI:
    manager = SessionManager(config.scenes_dir, config.db or default_db_path(), planner=config.planner,
                             preset=config.preset, size=config.size, max_sessions=config.max_sessions,
                             pace=config.pace)
    @asynccontextmanager
    async def lifespan(_app):
        yield
        await run_in_threadpool(manager.close)

    app = FastAPI(title="Callosum server", version=str(SCHEMA_VERSION), docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Sessions over the network: REST for sessions, a WebSocket per session "
                              "(protocol at /api/protocol.json), and the WebXR web client at /.")
    app.state.manager = manager
    app.state.config = config
    export_slots = asyncio.Semaphore(1)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return JSONResponse(_error_body(exc.code, str(exc), exc.field, exc.value), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        value = err.get("input")
        value = value if isinstance(value, (str, int, float, type(None))) else json.dumps(value, default=str)[:80]
        return JSONResponse(_error_body("bad_request", f"{where}: {err['msg']}; see /openapi.json", where, value),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        return JSONResponse(_error_body("http", str(exc.detail)), status_code=exc.status_code)

    def _session(sid: str, authorization: str | None, *, admin_ok: bool = False):
        token = _bearer(authorization)
        session = manager.get(sid)
        if admin_ok and secrets.compare_digest(token.encode(), config.server_key.encode()) and session:
            return session, "admin"
        role = session.role_for(token) if session is not None else None
        if role is None:  # the same answer for a missing session and a wrong token
            raise ApiError(403, "forbidden", f"no open session {sid[:40]!r} accepts this token; use the player "
                           "or spectator token that POST /api/sessions (or .../open) returned for it",
                           "session", sid[:40])
        return session, role

    def _admin(authorization: str | None) -> None:
        token = _bearer(authorization)
        if not secrets.compare_digest(token.encode(), config.server_key.encode()):
            raise ApiError(403, "forbidden", "this needs the server key that `callosum serve` printed "
                           "(the #key=... part of its URL)", "Authorization")

    @app.get("/api/health", summary="Liveness and version")
    async def health() -> dict:
        return {"ok": True, "schema_version": SCHEMA_VERSION, "sessions": len(manager.sessions)}

    @app.get("/api/scenes", summary="Scene names a session can be made from")
    async def scenes() -> dict:
        return {"scenes": manager.scene_names()}

    @app.get("/api/protocol.json", summary="JSON Schemas of every WebSocket message")
    async def protocol() -> dict:
        return protocol_schema()

    @app.post("/api/sessions", status_code=201, response_model=SessionCreated,
              summary="Create a session from a scene name (needs the server key)")
    async def create(body: CreateSession, authorization: str | None = Header(None)) -> SessionCreated:
        _admin(authorization)
        return await _serve(manager.create, body.scene, asyncio.get_running_loop(), body.name)

    @app.post("/api/sessions/{sid}/open", response_model=SessionCreated,
              summary="Serve a saved session again with fresh tokens (needs the server key)")
    async def open_saved(sid: str, authorization: str | None = Header(None)) -> SessionCreated:
        _admin(authorization)
        return await _serve(manager.open, sid, asyncio.get_running_loop())

    async def _serve(fn, *args) -> SessionCreated:
        try:
            s = await run_in_threadpool(fn, *args)
        except SessionLookupError as exc:
            raise ApiError(exc.status, exc.code, str(exc), exc.field, exc.value) from None
        return SessionCreated(session=s.id, scene=s.scene_name, player_token=s.player_token,
                              spectator_token=s.spectator_token, ws_url=f"/ws/{s.id}",
                              player_url=f"/#session={s.id}&token={s.player_token}",
                              spectator_url=f"/#session={s.id}&token={s.spectator_token}")

    @app.get("/api/sessions", summary="Open and saved sessions (needs the server key; no tokens shown)")
    async def list_sessions(authorization: str | None = Header(None)) -> dict:
        _admin(authorization)
        saved = await run_in_threadpool(manager.saved)
        return {"sessions": [s.info() for s in list(manager.sessions.values()) if s is not None], "saved": saved}

    @app.get("/api/sessions/{sid}/state", summary="World state JSON (player or spectator token)")
    async def state(sid: str, authorization: str | None = Header(None)) -> dict:
        session, role = _session(sid, authorization, admin_ok=True)
        body = json.loads(session.last_state) if session.last_state else {}
        pose = session.pose.model_dump(mode="json") if session.pose else None
        return {"schema_version": SCHEMA_VERSION, "session": session.id, "scene": session.scene_name,
                "role": role, "steps": body.get("steps", 0), "busy": session.busy, "view": pose,
                "snapshot_sha": session.snapshot_sha, "state": body.get("state")}

    @app.get("/api/sessions/{sid}/video.mp4", summary="The session's recorded turns as an MP4 (scene camera)",
             response_class=FileResponse)
    async def video(sid: str, authorization: str | None = Header(None)):
        session, _ = _session(sid, authorization, admin_ok=True)
        tmp = Path(tempfile.mkstemp(prefix=f"callosum-{sid}-", suffix=".mp4")[1])
        async with export_slots:
            t0 = time.perf_counter()
            try:
                frames = await run_in_threadpool(export, manager.db, session.id, out=tmp)
            except SessionError as exc:
                tmp.unlink(missing_ok=True)
                raise ApiError(409, "no_turns", str(exc), "session", sid) from None
        log.info("exported %s: %d frames in %.2f s", sid, frames, time.perf_counter() - t0)
        return FileResponse(tmp, media_type="video/mp4", filename=f"{session.scene_name}-{sid}.mp4",
                            headers={"X-Frame-Count": str(frames)}, background=BackgroundTask(tmp.unlink))

    @app.delete("/api/sessions/{sid}", status_code=204, response_class=Response,
                summary="Stop serving a session; it stays saved (player token or server key)")
    async def delete(sid: str, authorization: str | None = Header(None)):
        _, role = _session(sid, authorization, admin_ok=True)
        if role == "spectator":
            raise ApiError(403, "forbidden", "spectator tokens are read-only; ending a session needs its "
                           "player token or the server key", "Authorization")
        await run_in_threadpool(manager.delete, sid)
        return Response(status_code=204)

    @app.websocket("/ws/{sid}")
    async def socket(websocket: WebSocket, sid: str):
        try:
            await serve_socket(websocket, manager.get(sid), config.limits)
        except WebSocketDisconnect:
            pass

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
