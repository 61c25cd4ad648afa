"""The ASGI app: REST for sessions, a WebSocket per session, and the web client's files."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.turns.sessions import default_db
from server import routes
from server.guard import EdgeGuard
from server.manager import SessionManager
from server.protocol import SCHEMA_VERSION
from server import worlds
from server.routes import ApiError, CreateSession, SessionCreated
from server.ws import SocketLimits

__all__ = ["ApiError", "CreateSession", "ServerConfig", "SessionCreated", "create_app"]

log = logging.getLogger("callosum.server")
WEB_DIR = Path(__file__).parent / "web"


@dataclass
class ServerConfig:
    """How a server runs; ``server_key`` guards creating, opening and listing sessions (``CALLOSUM_SERVER_KEY``
    gives several servers sharing one session database the same key; else a random one)."""

    scenes_dir: Path
    db: str | Path | None = None
    """The session database (None: ``callosum interact``'s default)."""
    server_key: str = field(default_factory=lambda: os.environ.get("CALLOSUM_SERVER_KEY") or secrets.token_urlsafe(24))
    planner: object = None
    preset: str = "fast"
    size: tuple[int, int] | None = None
    """Streamed frame size per eye for every session (None: each scene's render size times `scale`)."""
    scale: int = 1
    """With no `size`: stream at this multiple of each scene's render size (`callosum serve` uses 2)."""
    pace: bool = True
    max_sessions: int = 64
    limits: SocketLimits = field(default_factory=SocketLimits)
    allow_origins: tuple[str, ...] = ()
    """Origins besides the server's own that may call it (``--allow-origin``); their hosts are allowed too."""
    bind_host: str | None = None
    """The address the server listens on; a specific one is an allowed ``Host``, as loopback always is."""
    video: object = None
    """A loaded video renderer (``--video-model``): every session's turns are rendered by its own copy."""


def _error_body(code: str, message: str, field=None, value=None) -> dict:
    return {"error": {"code": code, "message": message, "field": field, "value": value}}


def create_app(config: ServerConfig) -> FastAPI:
    """The server's ASGI app: the session manager, the routers, the error handlers, the web client."""
    manager = SessionManager(config.scenes_dir, config.db or default_db(), planner=config.planner,
                             preset=config.preset, size=config.size, max_sessions=config.max_sessions,
                             pace=config.pace, scale=config.scale, video=config.video)

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
    app.state.export_slots = asyncio.Semaphore(1)
    _add_error_handlers(app)
    app.add_middleware(EdgeGuard, allow_origins=config.allow_origins, bind_host=config.bind_host)
    for router in (routes.public, routes.sessions, worlds.router, routes.sockets):
        app.include_router(router)
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every refusal is a JSON body ``{"error": {code, message, field, value}}``."""

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
