"""A served session: an ``agent.turns.sessions.Session`` on its own render thread, with tokens and clients.

The render thread owns the session's GL contexts (a context is bound to the thread that made it),
so it runs every turn and rewind through the checkpointed turn graph, and between them re-renders
the session's world from the latest head pose whenever the pose changes. While a model plans, the
call runs on a shared worker pool and the render thread keeps answering head poses.

A running turn reports each stage as it starts (``progress``), and can be cancelled: the cancel is
seen when the planner's answer is awaited, at the next stage boundary, or during playback, and in
every case the session goes back to its last committed step before the turn (nothing committed).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from agent.turns.sessions import Session, SessionDB, SessionError
from agent.turns.turn import as_record
from renderer.geometry import GeometryRenderer
from server.frames import generated_xr, is_scene_camera, render_view, render_xr, same_pose
from server.jobs import (
    Job,
    LivePlanner,
    LiveVideo,
    PlannerGate,
    RewindJob,
    TurnCancelled,
    TurnError,
    TurnJob,
    VideoGate,
)
from server.protocol import (
    ErrorMsg,
    FrameHeader,
    PoseMsg,
    RewoundMsg,
    StateMsg,
    TurnSummary,
)
from server.streaming import Broadcaster, Frame, Outbox
from server.turns import TurnRunner
from server.headpose import head_pose
from server.xr import EYE_CAP, PosePredictor, XrTarget

__all__ = ["PlannerGate", "ServedSession", "TurnCancelled", "TurnError"]

log = logging.getLogger("callosum.server")
MAX_QUEUED_JOBS = 2
HISTORY_SENT = 100


class ServedSession(TurnRunner):
    """A live session. Public methods are called from the event loop; ``_run`` is the render thread."""

    def __init__(self, name: str, db: SessionDB, loop: asyncio.AbstractEventLoop, gate: PlannerGate,
                 pool: ThreadPoolExecutor, render_slots: threading.Semaphore, *, preset: str = "fast",
                 size: tuple[int, int] | None = None, jpeg_quality: int = 80, pace: bool = True,
                 take_over: bool = False, video: VideoGate | None = None):
        """`video`: the server's video model; this session's turns are rendered by its own copy."""
        self.id = name
        self.video_gate = video
        self._held: tuple[np.ndarray, bytes, dict] | None = None
        """With a video model: the generated frame the world rests on (image, depth plane, header
        fields), sent once for look-around in colour instead of a geometry re-render."""
        self._held_sent = False
        """The held frame was the last one sent: the clients have it (a joiner gets the newest frame)."""
        self.db = db
        self.take_over = take_over
        self.lost: str | None = None
        """Why this session stopped being driven from here (another driver took it over), or None."""
        info = db.info(name)
        self.scene = info.scene
        self.scene_name = Path(info.scene_path).stem or self.scene.name
        self.record_preset = info.preset
        self.player_token = secrets.token_urlsafe(24)
        self.spectator_token = secrets.token_urlsafe(24)
        self.created = info.created
        self.opened = time.time()
        self.broadcaster = Broadcaster()
        self.loop, self.gate, self.pool, self.render_slots = loop, gate, pool, render_slots
        self.preset, self.jpeg_quality, self.pace = preset, jpeg_quality, pace
        self.width, self.height = size or (self.scene.render.width, self.scene.render.height)
        self.pose: PoseMsg | None = None
        self.xr_target: XrTarget | None = None
        """For a headset pose: each eye as the next frame renders it (predicted pose, widened frustum)."""
        self.xr_cap = EYE_CAP
        self.predictor = PosePredictor()
        self._xr_renderer: GeometryRenderer | None = None
        self.view = "rgb"
        self.busy = False
        self.cancelling = threading.Event()
        self.history: list[TurnSummary] = []
        self._turn_t0 = 0.0
        self._turn_action = ""
        self.step = 0
        self.time = 0.0
        self.frames = 0
        self.snapshot_sha: str | None = None
        self.last_state: str | None = None
        self.recovered: str | None = None
        self.session: Session | None = None
        self._state: dict | None = None
        self._cv = threading.Condition()
        self._jobs: collections.deque[Job] = collections.deque()
        self._pose_dirty = True
        self._stop = False
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"session-{name}", daemon=True)
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
        """A new head pose; the same pose again (a still head sends one every display frame) renders nothing.

        A headset pose (with ``views``) is extrapolated to when its frame will be shown."""
        with self._cv:
            target = self.predictor.predict(pose, (self.width, self.height), self.xr_cap) if pose.views else None
            if (self.pose is not None and same_pose(self.pose, pose)
                    and (target is None or target.close_to(self.xr_target))):
                return
            self.pose, self.xr_target = pose, target
            self._pose_dirty = True
            self._cv.notify()

    def request_frame(self) -> None:
        with self._cv:
            self._pose_dirty = True
            self._cv.notify()

    def wake(self) -> None:
        with self._cv:
            self._cv.notify()

    def set_view(self, mode: str) -> None:
        """What frames show from now on: rgb, depth or segmentation (one choice per session)."""
        with self._cv:
            self.view = mode
            self._pose_dirty = True
            self._cv.notify()

    def cancel(self) -> int:
        """Stop the running turn and drop the queued actions; returns how many turns were stopped.

        Raises TurnError('not_running') when no turn runs or waits."""
        with self._cv:
            queued = [j for j in self._jobs if isinstance(j, TurnJob)]
            if not self.busy and not queued:
                raise TurnError("not_running", "no turn is running or waiting; there is nothing to stop")
            for job in queued:
                self._jobs.remove(job)
            if self.busy:
                self.cancelling.set()
            self._cv.notify()
        for job in queued:
            self._progress(self.step + 1, "cancelled", job.request.action or "", elapsed=0.0)
        return len(queued) + (1 if self.busy else 0)

    def submit(self, job: Job) -> None:
        """Queue a turn or a rewind; raises TurnError('busy') when the queue is full."""
        if self.lost:
            raise TurnError("session_lost", self.lost)
        with self._cv:
            if len(self._jobs) >= MAX_QUEUED_JOBS:
                raise TurnError("busy", f"{len(self._jobs)} turns are already waiting; wait for the "
                                "next 'state' message before sending another action or rewind")
            self._jobs.append(job)
            waiting = len(self._jobs)
            self._cv.notify()
        if isinstance(job, TurnJob) and (self.busy or waiting > 1):
            self._progress(self.step + waiting, "queued", job.request.action or "", elapsed=0.0, queued=waiting)

    @property
    def closing(self) -> bool:
        """True once :meth:`close` was called."""
        return self._stop

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        for c in list(self.broadcaster.clients):
            self.broadcaster.remove(c)
        self._thread.join(10)
        if self.session is not None:  # even if the thread is stuck in a turn: it can no longer commit
            self.session.release()

    def _lost(self, why: str) -> None:
        """Another driver took this session over: tell the clients, and stop acting on it."""
        if self.lost:
            return
        self.lost = why
        with self._cv:
            self._jobs.clear()
        self._post(self.broadcaster.message, ErrorMsg(code="session_lost", message=f"{why}; open it again to "
                                                      "drive it from here").model_dump_json())

    def info(self) -> dict:
        return {"session": self.id, "scene": self.scene_name, "step": self.step, "time": self.time,
                "busy": self.busy, "frames": self.frames, "created": self.created, "opened": self.opened,
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

    def _open(self) -> None:
        self.renderer = GeometryRenderer(self.scene, self.width, self.height, preset=self.preset)
        shared = ((self.width, self.height) == (self.scene.render.width, self.scene.render.height)
                  and self.preset == self.record_preset)
        gate = self.video_gate
        video = LiveVideo(self, gate.for_session(), gate) if gate is not None else None
        try:
            self.session = Session(self.db, self.id, planner=LivePlanner(self) if self.gate.planner else None,
                                   video=video, geometry=self.renderer if shared else None, segment_mp4=False,
                                   on_node=self._on_node, take_over=self.take_over, driver="callosum serve",
                                   on_lost=self._lost)
        except BaseException:
            self.renderer.close()
            raise
        self.recovered = self.session.recovered
        self.history = [TurnSummary(step=t.end_step, action=t.action, narration=t.narration)
                        for t in self.db.turns(self.id)]
        self._sync()

    def _run(self) -> None:
        try:
            self._open()
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._publish_state()
            while True:
                with self._cv:
                    while not (self._stop or self._pose_dirty or self._jobs):
                        self._cv.wait(0.5)
                    if self._stop:
                        return
                    job = self._jobs.popleft() if self._jobs else None
                    if isinstance(job, TurnJob):
                        self.busy = True  # under the lock, so a cancel sees it
                        self.cancelling.clear()
                if isinstance(job, RewindJob):
                    self._rewind(job)
                elif isinstance(job, TurnJob):
                    self._turn(job)
                if self._pose_dirty:
                    self._render(turn=False)
        except Exception:
            log.exception("session %s render thread failed", self.id)
        finally:
            self.session.close()
            self.renderer.close()
            if self._xr_renderer is not None:
                self._xr_renderer.close()

    def look_around_until(self, done) -> None:
        """Re-render on head poses until ``done()`` (or the session closes); on the render thread."""
        while True:
            with self._cv:
                while not (self._stop or self._pose_dirty or done()):
                    self._cv.wait(0.5)
                if self._stop or done():
                    return
            self._render(turn=False)

    def _sync(self) -> None:
        """Bring the live world to the session's head and remember its state."""
        world_state = self.session.world_state()
        head = self.session.state
        self.step, self.time, self.snapshot_sha = head["step"], float(head["time"]), head["snapshot_sha"]
        self._state = world_state.model_dump(mode="json")
        self._hold(head.get("last_turn"))

    def _hold(self, last) -> None:
        """With a video model, the world at rest shows the last generated frame of the head's turn
        (`last`), with the geometry pass's depth for it; else (none, step 0, a turn recorded without a
        video model) the geometry pass renders every look-around."""
        self._held, self._held_sent = None, False
        if self.video_gate is None or last is None:
            return
        episode, record = self.session.episode, as_record(last)
        if episode.generated(record):
            with self.render_slots:
                self._held = generated_xr(episode.frames(record)[-1], self.renderer, self.session.ctx.world,
                                          self.scene)

    def _rewind(self, job: RewindJob) -> None:
        before = self.step
        try:
            self.session.rewind(job.step)
        except SessionError as exc:
            self._error(job.origin, TurnError("bad_step", str(exc), "step", job.step))
            return
        self._sync()
        dropped = [t.action for t in self.history if t.step > self.step]
        self.history = [t for t in self.history if t.step <= self.step]
        self._post(self.broadcaster.message, RewoundMsg(step=self.step, from_step=before, time=self.time,
                                                        dropped=dropped).model_dump_json())
        self._publish_state()
        self._pose_dirty = True

    def _publish_state(self) -> None:
        self.last_state = StateMsg(state=self._state, busy=self.busy, steps=self.step).model_dump_json()
        self._post(self.broadcaster.state, self.last_state)

    def hello_history(self) -> list[TurnSummary]:
        """The newest committed turns, for a client that joins."""
        return list(self.history[-HISTORY_SENT:])

    # ---- frames -----------------------------------------------------------------------------

    def _xr(self, size: tuple[int, int]) -> GeometryRenderer:
        """The headset renderer (its own GL context, at the negotiated size per eye), made on first use."""
        r = self._xr_renderer
        if r is None or (r.width, r.height) != size:
            if r is not None:
                r.close()
            self._xr_renderer = r = GeometryRenderer(self.scene, size[0], size[1], preset=self.preset)
        return r

    def _render(self, turn: bool, generated=None, rendered: np.ndarray | None = None) -> None:
        """Render and send a frame; `generated`: the video model's frame for this moment of a turn, sent
        instead in colour (with the scene camera's depth, so a headset reprojects it with its own head
        motion), as is the held one at rest (:meth:`_hold`);
        `rendered`: this moment's frame as the turn rendered it (scene camera, mono, colour), sent as it
        is to a viewer who looks through the scene camera in colour (no second render)."""
        with self._cv:
            self._pose_dirty = False
            pose, view, target = self.pose, self.view, self.xr_target
        if not self.broadcaster.clients:
            return
        world = self.session.ctx.world
        depth = b""
        held = self._held if not turn else None
        resend = view == "rgb" and generated is None and held is not None
        if resend and self._held_sent:
            return  # the same image again: a head moving on it is reprojected by the client
        self._held_sent = resend
        if view == "rgb" and (generated is not None or held is not None):
            if generated is not None:
                with self.render_slots:
                    held = generated_xr(generated, self.renderer, world, self.scene)
            image, depth, extra = held
            stereo, extra = False, {**extra, "generated": True}
        elif target is not None:
            renderer = self._xr(target.size)
            with self.render_slots:
                image, depth, extra = render_xr(renderer, world, self.scene, view, target)
            stereo = len(target.eyes) == 2
        else:
            stereo = bool(pose and pose.stereo)
            cam = head_pose(self.scene, pose.position, pose.orientation) if pose else None
            if rendered is not None and view == "rgb" and not stereo and is_scene_camera(self.scene, cam):
                image, extra = rendered, {}
            else:
                with self.render_slots:  # many sessions, few cores: take turns instead of thrashing
                    image, extra = render_view(self.renderer, world, self.scene, view, pose=cam, stereo=stereo,
                                               ipd=pose.ipd if pose else 0.064)
        self.frames += 1
        header = FrameHeader(seq=self.frames, step=self.step, time=world.time, pose=pose,
                             stereo=stereo, width=image.shape[1], height=image.shape[0],
                             fov_y=self.scene.camera.fov, rendered_at=time.time() * 1000.0, turn=turn, view=view,
                             **extra)
        self._post(self.broadcaster.frame, Frame(header, image, depth, self.jpeg_quality))
