"""All sessions of one server: the session database, the scenes they are made from, the live ones."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.turns.sessions import SessionBusy, SessionDB, SessionDBError, SessionError, SessionExists, check_name
from server.jobs import VideoGate
from server.live import PlannerGate, ServedSession
from simulator.limits import LIMITS
from simulator.loader import SceneError, load_scene

SCENE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A scene's bare name, matched whole (``fullmatch``)."""
MIN_SIDE, MAX_WIDTH, MAX_HEIGHT = 32, LIMITS.max_render_side, LIMITS.max_render_pixels // LIMITS.max_render_side
"""Streamed frame size bounds (pixels per eye; the render limits of simulator.limits)."""


def check_size(size: tuple[int, int] | None, field: str = "size") -> tuple[int, int] | None:
    """A streamed frame size (width, height per eye), or ValueError naming the field, value and bounds."""
    if size is None:
        return None
    w, h = size
    if not (MIN_SIDE <= w <= MAX_WIDTH and MIN_SIDE <= h <= MAX_HEIGHT):
        raise ValueError(f"{field} {w}x{h} is out of range: width {MIN_SIDE}-{MAX_WIDTH} and height "
                         f"{MIN_SIDE}-{MAX_HEIGHT} pixels per eye (e.g. 960x720)")
    return w, h


class SessionLookupError(LookupError):
    """A refused create or open; ``status`` and ``code`` are the HTTP answer."""

    def __init__(self, status: int, message: str, field: str, value, code: str = "bad_scene"):
        super().__init__(message)
        self.status, self.field, self.value, self.code = status, field, value, code


class SessionManager:
    """Sessions live in ``db`` (they outlive the server); ``sessions`` holds the open ones."""

    def __init__(self, scenes_dir: Path, db_path: str | Path, *, planner=None, preset: str = "fast",
                 size: tuple[int, int] | None = None, max_sessions: int = 64, pace: bool = True,
                 jpeg_quality: int = 80, scale: int = 1, video=None):
        """``size``: the streamed frame size of every session (per eye); None streams each session at
        its scene's render size times ``scale`` (kept within the size bounds). ``video``: a loaded
        video renderer (renderer.video) that renders every session's turns, or None."""
        self.scenes_dir = Path(scenes_dir).resolve()
        self.db = SessionDB(db_path)
        self.gate = PlannerGate(planner)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="planner")
        self.render_slots = threading.Semaphore(max(1, os.cpu_count() or 1))
        self.video = VideoGate(video) if video is not None else None
        self.preset, self.size, self.pace, self.jpeg_quality = preset, check_size(size), pace, jpeg_quality
        self.scale = scale
        self.max_sessions = max_sessions
        self.sessions: dict[str, ServedSession | None] = {}
        self._lock = threading.Lock()

    def scene_names(self) -> list[str]:
        return sorted(p.stem for p in self.scenes_dir.glob("*.yaml") if SCENE_NAME.fullmatch(p.stem))

    def scene_path(self, name) -> Path:
        if not isinstance(name, str) or not SCENE_NAME.fullmatch(name):
            raise SessionLookupError(400, f"scene {str(name)[:80]!r} is not a scene name: use the bare name of a "
                                     "scene in the scenes folder (lowercase letters, digits, '-' or '_'), "
                                     f"e.g. {', '.join(self.scene_names()[:3])}", "scene", str(name)[:80])
        path = self.scenes_dir / f"{name}.yaml"
        if not path.is_file() or path.resolve().parent != self.scenes_dir:
            raise SessionLookupError(404, f"scene {name!r} is not in the scenes folder; available: "
                                     f"{', '.join(self.scene_names())}", "scene", name)
        return path

    def saved(self) -> list[dict]:
        """Every session in the database, open or not (no tokens: those exist only while open)."""
        out = []
        for name in self.db.names():
            try:
                info = self.db.info(name)
            except SessionError:  # another schema version: not ours to open
                continue
            head = self.db.head(name).values
            out.append({"session": name, "scene": Path(info.scene_path).stem or info.scene.name,
                        "step": head.get("step", 0), "created": info.created, "open": name in self.sessions})
        return out

    def stream_size(self, scene, size: tuple[int, int] | None = None) -> tuple[int, int]:
        """The size a session of `scene` streams at: `size`, else the server's, else the scene's × scale."""
        if size is not None or self.size is not None:
            return size or self.size
        w, h = scene.render.width * self.scale, scene.render.height * self.scale
        k = min(1.0, MAX_WIDTH / w, MAX_HEIGHT / h)
        return max(MIN_SIDE, int(w * k)), max(MIN_SIDE, int(h * k))

    def create(self, scene_name: str, loop: asyncio.AbstractEventLoop, name: str | None = None,
               size: tuple[int, int] | None = None) -> ServedSession:
        """Create and serve a session; `size` (width, height per eye) overrides the server's stream size."""
        try:
            size = check_size(size)
        except ValueError as exc:
            raise SessionLookupError(400, str(exc), "size", f"{size[0]}x{size[1]}", "bad_size") from None
        path = self.scene_path(scene_name)
        try:
            scene = load_scene(path)
        except SceneError as exc:
            raise SessionLookupError(422, f"scene {scene_name!r} does not load: {exc}", "scene", scene_name) from None
        with self._lock:
            self._check_room("scene", scene_name)
            name = self._create_saved(scene_name, scene, path, name)
            self.sessions[name] = None  # reserve the slot while the render thread starts
        return self._start(name, loop, self.stream_size(scene, size))

    def _create_saved(self, scene_name: str, scene, path: Path, name: str | None) -> str:
        """Register and start `name` (or the next free name for the scene) in the database; another
        server sharing it may take a free name at the same moment: then the next one is tried."""
        for _ in range(16):
            chosen = name or self.db.unique_name(scene_name)
            self._check_name(chosen)
            taken = SessionLookupError(409, f"session {chosen!r} already exists in the session database; open it "
                                       f"with POST /api/sessions/{chosen}/open, or choose another name",
                                       "name", chosen, "exists")
            if self.db.exists(chosen):
                if name is None:
                    continue
                raise taken
            try:
                self.db.create(chosen, scene, str(path), self.preset)
                return chosen
            except SessionExists:
                if name is not None:
                    raise taken from None
            except SessionError as exc:  # e.g. the world does not compile: nothing was saved
                raise SessionLookupError(422, f"scene {scene_name!r} cannot start: {exc}", "scene",
                                         scene_name) from None
        raise SessionLookupError(409, f"no free session name for scene {scene_name!r} after 16 tries; give a name",
                                 "name", scene_name, "exists")

    def open(self, name: str, loop: asyncio.AbstractEventLoop, take_over: bool = False) -> ServedSession:
        """Serve a saved session again, with fresh tokens; `take_over` drives it even if another
        process (e.g. `callosum interact`) drives it now."""
        self._check_name(name)
        with self._lock:
            if name in self.sessions:
                raise SessionLookupError(409, f"session {name!r} is already open; use the tokens it was opened "
                                         "with, or close it (DELETE /api/sessions/{id}) and open it again for "
                                         "new ones", "session", name, "already_open")
            if not self.db.exists(name):
                raise SessionLookupError(404, f"no saved session {name!r}; saved sessions are listed by "
                                         "GET /api/sessions under 'saved'", "session", name, "not_found")
            self._check_room("session", name)
            self.sessions[name] = None
        try:
            scene = self.db.info(name).scene
        except SessionError:
            scene = None  # _start reports it
        return self._start(name, loop, self.stream_size(scene) if scene is not None else self.size, take_over)

    def _check_name(self, name) -> None:
        try:
            check_name(name)
        except SessionError as exc:
            raise SessionLookupError(400, str(exc), "name", str(name)[:80], "bad_name") from None

    def _check_room(self, field: str, value) -> None:
        if len(self.sessions) >= self.max_sessions:
            raise SessionLookupError(429, f"this server already runs {len(self.sessions)} sessions (the limit); "
                                     "close one first (DELETE /api/sessions/{id})", field, value,
                                     "too_many_sessions")

    def _start(self, name: str, loop: asyncio.AbstractEventLoop, size: tuple[int, int] | None,
               take_over: bool = False) -> ServedSession:
        try:
            session = ServedSession(name, self.db, loop, self.gate, self.pool, self.render_slots,
                                    preset=self.preset, size=size, pace=self.pace,
                                    jpeg_quality=self.jpeg_quality, take_over=take_over, video=self.video)
        except BaseException as exc:
            with self._lock:
                del self.sessions[name]
            if isinstance(exc, SessionBusy):
                raise SessionLookupError(409, str(exc), "session", name, "driven") from None
            if isinstance(exc, (SessionError, SessionDBError)):
                raise SessionLookupError(422, f"session {name!r} cannot be served: {exc}", "session", name,
                                         "bad_session") from None
            raise
        with self._lock:
            self.sessions[name] = session
        return session

    def get(self, sid: str) -> ServedSession | None:
        return self.sessions.get(sid) if isinstance(sid, str) else None

    def delete(self, sid: str) -> None:
        """Stop serving a session; its recording stays in the database and can be opened again."""
        with self._lock:
            session = self.sessions.pop(sid, None)
        if session is not None:
            session.close()

    def close(self) -> None:
        for sid in list(self.sessions):
            if self.sessions.get(sid) is not None:
                self.delete(sid)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.video is not None:
            self.video.close()
        self.db.close()
