"""Start the server under uvicorn (``callosum serve``)."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from server.app import ServerConfig, create_app

# Above the app's own message limit (simulator.limits: max_message_bytes), so oversize messages
# usually get an `error` reply; beyond this the WebSocket layer closes the socket with 1009 (message
# too big) from the frame header, before it buffers the message.
WS_MAX_SIZE = 64 * 1024


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(config: ServerConfig, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/#key={config.server_key}"
    lines = [
        f"Callosum is serving scenes from {Path(config.scenes_dir).resolve()}",
        f"Sessions are saved in {config.db} (reopen them after a restart: POST /api/sessions/NAME/open)",
        "",
        f"  open  {url}",
        "",
        "The #key=... part is this server's key: it lets the page create sessions, and stays in your",
        "browser (URL fragments are never sent over the network). Each new session gets two tokens:",
        "a player link (may act and steer the view) and a spectator link (watch only) to share.",
        "REST: /openapi.json  WebSocket protocol: /api/protocol.json",
    ]
    if config.video is not None:
        lines += ["", f"Turns are rendered by the video model ({config.video.family}); its frames come at its own "
                  "rate, and head motion between them is reprojected in the headset with the geometry depth"]
    if not is_loopback(host):
        lines += ["", f"warning: listening on {host}, not loopback: anyone who can reach this port can try "
                  "tokens; prefer --host 127.0.0.1 with `adb reverse` or an https tunnel (see docs/server.md)"]
    return "\n".join(lines)


def serve(host: str, port: int, scenes_dir: Path, *, db: str | Path | None = None, planner=None, preset: str = "fast",
          size: tuple[int, int] | None = None, scale: int = 2, allow_origins: tuple[str, ...] = (),
          video=None, echo=print) -> None:
    import uvicorn

    from agent.turns.sessions import default_db

    config = ServerConfig(scenes_dir=scenes_dir, db=db or default_db(), planner=planner, preset=preset, size=size,
                          scale=scale, allow_origins=tuple(allow_origins), bind_host=host, video=video)
    app = create_app(config)
    echo(banner(config, host, port))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.Server(uvicorn_config(app, host, port)).run()


def uvicorn_config(app, host: str, port: int):
    """The uvicorn settings the server runs with (tests use the same)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, ws_max_size=WS_MAX_SIZE, log_level="warning",
                          access_log=False, lifespan="on", ws_ping_interval=20.0, ws_ping_timeout=20.0)
