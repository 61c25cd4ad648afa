"""Served sessions: one world, one render thread, its tokens and its clients.

Each session's render thread owns its ``GeometryRenderer`` (a GL context is bound to the thread
that made it) and its world. It plays queued turns, and between turns re-renders the world from
the latest head pose whenever the pose changes. Planning runs on a shared worker pool so looking
around stays live while a model thinks.
"""

from __future__ import annotations

import asyncio
import collections
import io
import logging
import os
import re
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from renderer.geometry import GeometryRenderer
from server.protocol import ActionMsg, ErrorMsg, FrameHeader, NarrationMsg, PlanMsg, PoseMsg, StateMsg, pack_frame
from server.streaming import Broadcaster, Outbox
from server.turns import PlannerGate, TurnError, TurnRunner, check_events, head_pose
from simulator.loader import SceneError, load_scene

log = logging.getLogger("callosum.server")
SCENE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_QUEUED_JOBS = 2


class SessionLookupError(LookupError):
    """An unknown or malformed scene or session name; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, field: str, value):
        super().__init__(message)
        self.status, self.field, self.value = status, field, value


@dataclass
class Job:
    kind: str  # "action" | "rewind"
    payload: object
    origin: Outbox | None


class ServedSession:
    """A live session. Public methods are called from the event loop; ``_run`` is the render thread."""

    def __init__(self, sid: str, scene_name: str, scene, loop: asyncio.AbstractEventLoop, gate: PlannerGate,
                 pool: ThreadPoolExecutor, render_slots: threading.Semaphore, *, preset: str = "fast", size: tuple[int, int] | None = None,
                 jpeg_quality: int = 80, pace: bool = True):
        self.id = sid
        self.scene_name = scene_name
        self.scene = scene
        self.player_token = secrets.token_urlsafe(24)
        self.spectator_token = secrets.token_urlsafe(24)
        self.created = time.time()
        self.broadcaster = Broadcaster()
        self.loop, self.gate, self.pool, self.render_slots = loop, gate, pool, render_slots
        self.preset, self.jpeg_quality, self.pace = preset, jpeg_quality, pace
        self.width, self.height = size or (scene.render.width, scene.render.height)
        self.pose: PoseMsg | None = None
        self.busy = False
        self.step = 0
        self.time = 0.0
        self.frames = 0
        self.last_state: str | None = None
        self.runner: TurnRunner | None = None
        self._cv = threading.Condition()
        self._jobs: collections.deque[Job] = collections.deque()
        self._pose_dirty = True
        self._planning: tuple[Future, Job] | None = None
        self._stop = False
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"session-{sid}", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._start_error is not None:
            raise self._start_error

    # ---- called from the event loop ---------------------------------------------------------

    def role_for(self, token: str) -> str | None:
        """'player', 'spectator' or None; constant-time comparisons against this session's tokens only."""
        token_b = token.encode()
        if secrets.compare_digest(token_b, self.player_token.encode()):
            return "player"
        if secrets.compare_digest(token_b, self.spectator_token.encode()):
            return "spectator"
        return None

    def set_pose(self, pose: PoseMsg) -> None:
        with self._cv:
            self.pose = pose
            self._pose_dirty = True
            self._cv.notify()

    def request_frame(self) -> None:
        with self._cv:
            self._pose_dirty = True
            self._cv.notify()

    def submit(self, kind: str, payload, origin: Outbox | None) -> None:
        """Queue an action or rewind; raises TurnError('busy') when the queue is full."""
        with self._cv:
            if len(self._jobs) >= MAX_QUEUED_JOBS:
                raise TurnError("busy", f"{len(self._jobs)} turns are already waiting; wait for the "
                                "next 'state' message before sending another action or rewind")
            self._jobs.append(Job(kind, payload, origin))
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        for c in list(self.broadcaster.clients):
            self.broadcaster.remove(c)
        self._thread.join(10)

    def info(self) -> dict:
        return {"session": self.id, "scene": self.scene_name, "step": self.step, "time": self.time,
                "busy": self.busy, "frames": self.frames, "created": self.created,
                "clients": {"players": sum(c.role == "player" for c in self.broadcaster.clients),
                            "spectators": sum(c.role == "spectator" for c in self.broadcaster.clients)}}

    # ---- render thread ----------------------------------------------------------------------

    def _post(self, fn, *args) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: the server is shutting down
            pass

    def _error(self, origin: Outbox | None, exc: TurnError) -> None:
        msg = ErrorMsg(code=exc.code, message=str(exc), field=exc.field, value=exc.value).model_dump_json()
        if origin is not None:
            self._post(origin.put_message, msg)

    def _run(self) -> None:
        try:
            self.runner = TurnRunner(self.scene)
            self.renderer = GeometryRenderer(self.scene, self.width, self.height, preset=self.preset)
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._publish_state()
            while True:
                with self._cv:
                    while not (self._stop or self._pose_dirty or self._planned() or
                               (self._jobs and self._planning is None)):
                        self._cv.wait(0.5)
                    if self._stop:
                        return
                    job = self._jobs.popleft() if self._jobs and self._planning is None else None
                if job is not None:
                    self._start(job)
                if self._planned():
                    self._play()
                if self._pose_dirty:
                    self._render(turn=False)
        except Exception:
            log.exception("session %s render thread failed", self.id)
        finally:
            self.renderer.close()

    def _planned(self) -> bool:
        return self._planning is not None and self._planning[0].done()

    def _start(self, job: Job) -> None:
        runner = self.runner
        if job.kind == "rewind":
            try:
                runner.rewind(job.payload)
            except TurnError as exc:
                self._error(job.origin, exc)
                return
            self.step, self.time = runner.step, float(runner.world.data.time)
            self._post(self.broadcaster.message, NarrationMsg(step=self.step, text=f"rewound to step {self.step}",
                                                              action="rewind").model_dump_json())
            self._publish_state()
            self._pose_dirty = True
            return
        action: ActionMsg = job.payload
        if action.events is not None:
            try:
                check_events(runner.world, action.events)
            except TurnError as exc:
                self._error(job.origin, exc)
                return
        self.busy = True
        self._publish_state()
        future = self.pool.submit(self.gate.plan, runner.state(), None, action.text, action.events, runner.history())
        future.add_done_callback(lambda _: self._wake())
        self._planning = (future, job)

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify()

    def _play(self) -> None:
        future, job = self._planning
        self._planning = None
        action: ActionMsg = job.payload
        runner = self.runner
        try:
            plan, record = future.result()
            runner.apply(action.text, plan, action.duration, record)
        except TurnError as exc:
            self._error(job.origin, exc)
            self.busy = False
            self._publish_state()
            return
        except Exception as exc:  # a planner failure must not end the session
            log.exception("planning failed in session %s", self.id)
            self._error(job.origin, TurnError("server_error", f"the planner failed ({type(exc).__name__}); "
                                              "the world is unchanged, try the action again"))
            self.busy = False
            self._publish_state()
            return
        self.step = runner.step
        self._post(self.broadcaster.message, NarrationMsg(step=self.step, text=plan.narration,
                                                          action=action.text).model_dump_json())
        self._post(self.broadcaster.message, PlanMsg(step=self.step, plan=plan.model_dump(mode="json"))
                   .model_dump_json())
        fps = self.scene.render.fps
        t0 = time.perf_counter()
        for k in runner.simulate(action.duration):
            self.time = float(runner.world.data.time)
            self._render(turn=True)
            if self.pace:
                delay = t0 + (k + 1) / fps - time.perf_counter()
                if delay > 0:
                    with self._cv:
                        if not self._stop:
                            self._cv.wait(delay)
            if self._stop:
                break
        self.busy = False
        self._publish_state()

    def _publish_state(self) -> None:
        runner = self.runner
        state = runner.state().model_dump(mode="json")
        self.last_state = StateMsg(state=state, busy=self.busy, steps=runner.step).model_dump_json()
        self._post(self.broadcaster.state, self.last_state)

    def _render(self, turn: bool) -> None:
        with self._cv:
            self._pose_dirty = False
            pose = self.pose
        if not self.broadcaster.clients:
            return
        stereo = bool(pose and pose.stereo)
        cam = head_pose(self.scene, pose.position, pose.orientation) if pose else None
        with self.render_slots:  # many sessions, few cores: take turns instead of thrashing
            frame = self.renderer.render(self.runner.world, pose=cam, stereo=stereo,
                                         ipd=pose.ipd if pose else 0.064)
            buf = io.BytesIO()
            Image.fromarray(frame.rgb).save(buf, "JPEG", quality=self.jpeg_quality)
        self.frames += 1
        header = FrameHeader(seq=self.frames, step=self.runner.step, time=float(self.runner.world.data.time),
                             pose=pose, stereo=stereo, width=frame.rgb.shape[1], height=frame.rgb.shape[0],
                             fov_y=self.scene.camera.fov, rendered_at=time.time() * 1000.0, turn=turn)
        self._post(self.broadcaster.frame, pack_frame(header, buf.getvalue()))


class SessionManager:
    """All sessions of one server, and the scenes they may be made from."""

    def __init__(self, scenes_dir: Path, *, planner=None, preset: str = "fast", size: tuple[int, int] | None = None,
                 max_sessions: int = 64, pace: bool = True, jpeg_quality: int = 80):
        self.scenes_dir = Path(scenes_dir).resolve()
        self.gate = PlannerGate(planner)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="planner")
        self.render_slots = threading.Semaphore(max(1, os.cpu_count() or 1))
        self.preset, self.size, self.pace, self.jpeg_quality = preset, size, pace, jpeg_quality
        self.max_sessions = max_sessions
        self.sessions: dict[str, ServedSession] = {}
        self._lock = threading.Lock()

    def scene_names(self) -> list[str]:
        return sorted(p.stem for p in self.scenes_dir.glob("*.yaml") if SCENE_NAME.match(p.stem))

    def scene_path(self, name) -> Path:
        if not isinstance(name, str) or not SCENE_NAME.match(name):
            raise SessionLookupError(400, f"scene {str(name)[:80]!r} is not a scene name: use the bare name of a "
                                     "scene in the scenes folder (lowercase letters, digits, '-' or '_'), "
                                     f"e.g. {', '.join(self.scene_names()[:3])}", "scene", str(name)[:80])
        path = self.scenes_dir / f"{name}.yaml"
        if not path.is_file() or path.resolve().parent != self.scenes_dir:
            raise SessionLookupError(404, f"scene {name!r} is not in the scenes folder; available: "
                                     f"{', '.join(self.scene_names())}", "scene", name)
        return path

    def create(self, name: str, loop: asyncio.AbstractEventLoop) -> ServedSession:
        path = self.scene_path(name)
        try:
            scene = load_scene(path)
        except SceneError as exc:
            raise SessionLookupError(422, f"scene {name!r} does not load: {exc}", "scene", name) from None
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                raise SessionLookupError(429, f"this server already runs {len(self.sessions)} sessions (the "
                                         "limit); delete one first (DELETE /api/sessions/{id})", "scene", name)
            sid = secrets.token_hex(8)
            self.sessions[sid] = None  # reserve the slot while the render thread starts
        try:
            session = ServedSession(sid, name, scene, loop, self.gate, self.pool, self.render_slots, preset=self.preset,
                                    size=self.size, pace=self.pace, jpeg_quality=self.jpeg_quality)
        except BaseException:
            with self._lock:
                del self.sessions[sid]
            raise
        with self._lock:
            self.sessions[sid] = session
        return session

    def get(self, sid: str) -> ServedSession | None:
        return self.sessions.get(sid) if isinstance(sid, str) else None

    def delete(self, sid: str) -> None:
        with self._lock:
            session = self.sessions.pop(sid, None)
        if session is not None:
            session.close()

    def close(self) -> None:
        for sid in list(self.sessions):
            if self.sessions.get(sid) is not None:
                self.delete(sid)
        self.pool.shutdown(wait=False, cancel_futures=True)
