"""``callosum serve``: registered into the `callosum` command line through the ``callosum.commands``
entry-point group, so the agent's CLI never imports the server (imports point one way)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from agent.cli import options as opts


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    scenes_dir: Path = typer.Option(Path("scenes"), help="Folder of scene YAML files sessions may use."),
    db: Optional[str] = typer.Option(None, "--db", help="Session database; sessions are saved there and can be "
                                     "reopened after a restart: a SQLite file, or postgresql://USER@HOST:PORT/DBNAME "
                                     "shared by several servers (default: $CALLOSUM_DB, else "
                                     "$CALLOSUM_HOME/sessions.db or the user data dir, as for interact)."),
    preset: str = typer.Option("fast", help="Geometry render preset for streamed frames: fast or quality."),
    size: Optional[str] = typer.Option(None, metavar="WxH", help="Streamed frame size per eye, e.g. 960x720 "
                                       "(default: twice each scene's render size, e.g. 640x480). A session "
                                       "created with width and height in its POST body uses those."),
    allow_origin: Optional[list[str]] = typer.Option(None, "--allow-origin", metavar="ORIGIN", help="Another origin "
                                                     "that may use the server, e.g. https://my-tunnel.example "
                                                     "(repeatable; loopback and the page it serves always may)."),
    planner: Optional[str] = opts.PLANNER,
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
    plan_format: str = opts.PLAN_FORMAT,
    planner_timeout: Optional[float] = opts.PLANNER_TIMEOUT,
    video_model: Optional[Path] = opts.VIDEO_MODEL,
    video_steps: Optional[int] = opts.VIDEO_STEPS,
    video_size: Optional[str] = opts.VIDEO_SIZE,
    device: str = opts.DEVICE,
    dtype: str = opts.DTYPE,
    strength: Optional[float] = opts.STRENGTH,
    offload: bool = opts.OFFLOAD,
) -> None:
    """Serve sessions to browsers and WebXR headsets; prints the URL to open. With --video-model, every
    session's turns are rendered by the video model (one loaded model, shared by the sessions)."""
    try:
        from server.run import serve as run_server
    except ImportError as exc:
        opts.fail(f"serve needs the server extra (pip install 'callosum\\[server]'): {exc}", code=1)
    from agent.turns.sessions import SessionDBError

    stream_size = _checked(scenes_dir, preset, size, allow_origin or [])
    turn_planner = opts.make_planner(planner, base_url, model, api_key, 0, structured, plan_format, planner_timeout)
    video = opts.make_video(video_model, video_steps, video_size, device, dtype, strength, offload)
    try:
        run_server(host, port, scenes_dir, db=db, planner=turn_planner, preset=preset, size=stream_size,
                   allow_origins=tuple(allow_origin or ()), video=video,
                   echo=lambda s: opts.console.print(s, highlight=False, markup=False, soft_wrap=True))
    except SessionDBError as exc:
        opts.fail(str(exc), code=1)


def _checked(scenes_dir: Path, preset: str, size: Optional[str], allow_origin: list[str]):
    """The stream size; any bad option ends the command with a message naming it."""
    from server.guard import normal_origin
    from server.manager import check_size

    if not scenes_dir.is_dir():
        opts.fail(f"--scenes-dir {str(scenes_dir)!r} is not a folder of scene YAML files")
    if preset not in ("fast", "quality"):
        opts.fail(f"--preset must be fast or quality, got {preset!r}")
    stream_size = opts.parse_size(size)
    try:
        check_size(stream_size, "--size")
    except ValueError as exc:
        opts.fail(str(exc))
    for origin in allow_origin:
        if not normal_origin(origin):
            opts.fail(f"--allow-origin {origin!r} is not an origin; give scheme://host[:port], e.g. https://example.org")
    return stream_size


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the `callosum` app (the ``callosum.commands`` entry point)."""
    app.command()(serve)
