"""What a served session's render thread works through: queued jobs, the planner it shares with the
other sessions, and the exceptions that end a turn early."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.turns.graph import TurnPlanner
from agent.turns.turn import TurnRequest
from server.streaming import Outbox


class TurnError(ValueError):
    """A turn or rewind that cannot run; the message says why and what to do instead."""

    def __init__(self, code: str, message: str, field: str | None = None, value: Any = None):
        super().__init__(message)
        self.code, self.field, self.value = code, field, value


class SessionClosing(RuntimeError):
    """Raised inside a turn when the session is closed while its planner is still thinking."""


class TurnCancelled(RuntimeError):
    """Raised inside a turn when the player pressed Stop; the turn is rolled back."""


class PlannerGate:
    """The server's one planner, called one turn at a time (a local model is not thread-safe)."""

    def __init__(self, planner: TurnPlanner | None = None):
        self.planner = planner
        self._lock = threading.Lock()

    def plan_turn(self, world_state, action: str, history: list[str], *, camera, imagination=None):
        with self._lock:
            return self.planner.plan_turn(world_state, action, history, camera=camera, imagination=imagination)


class LivePlanner:
    """The planner as the turn graph sees it: plans on the pool, looks around while it waits."""

    def __init__(self, served: Any):
        """`served`: the :class:`server.live.ServedSession` whose turns this plans."""
        self.served = served

    def plan_turn(self, world_state, action: str, history: list[str], *, camera, imagination=None):
        s = self.served
        future = s.pool.submit(s.gate.plan_turn, world_state, action, history, camera=camera,
                               imagination=imagination)
        future.add_done_callback(lambda _: s.wake())
        s.look_around_until(lambda: future.done() or s.cancelling.is_set())
        if s.cancelling.is_set():  # the model finishes its call on the pool; its answer is dropped
            raise TurnCancelled("the turn was cancelled while the planner was thinking")
        if not future.done():
            raise SessionClosing(f"session {s.id} closed while its planner was thinking")
        return future.result()


class VideoGate:
    """The server's one video model: loaded once, shared by every session through a copy per session
    (its own seed and records; each turn's anchor comes from the session's committed turns), its segments run on one worker pool (one at a time for an
    in-process pipeline, which also holds a lock per call; several for video workers on Ray)."""

    def __init__(self, renderer):
        self.renderer = renderer
        self.pool = ThreadPoolExecutor(max_workers=max(1, renderer.parallel_segments), thread_name_prefix="video")

    def for_session(self):
        return self.renderer.for_session()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class LiveVideo:
    """A session's video renderer as the turn graph sees it: each segment renders on the video pool
    while the session's render thread keeps answering head poses; Stop ends it at the next
    denoising step (an in-process pipeline) and the turn is rolled back."""

    def __init__(self, served: Any, renderer, gate: VideoGate):
        """`served`: the :class:`server.live.ServedSession` whose turns this renders."""
        self.served, self.renderer, self.gate = served, renderer, gate

    def start(self, seed: int, fps: int) -> None:
        self.renderer.start(seed, fps)

    def summary(self) -> dict:
        return self.renderer.summary()

    def render_segment(self, caption: str, geometry, *, step: int, anchor=None, progress=None):
        s = self.served

        def on_step(i: int, n: int) -> None:
            if s.cancelling.is_set() or s.closing:
                raise TurnCancelled("the turn was cancelled while the video model rendered it")
            if progress is not None:
                progress(i, n)

        future = self.gate.pool.submit(self.renderer.render_segment, caption, geometry, step=step, anchor=anchor,
                                       progress=on_step)
        future.add_done_callback(lambda _: s.wake())
        s.look_around_until(lambda: future.done() or s.cancelling.is_set())
        if s.cancelling.is_set():  # a segment still running is waited for; it stops at its next denoising step
            future.cancel()
            s.look_around_until(future.done)
            raise TurnCancelled("the turn was cancelled while the video model rendered it")
        if not future.done():
            raise SessionClosing(f"session {s.id} closed while the video model rendered its turn")
        return future.result()


class _Job(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    origin: Outbox | None = None
    """The socket that asked (errors go back to it), or None."""


class TurnJob(_Job):
    """Play one turn."""

    request: TurnRequest
    """The checked request."""


class RewindJob(_Job):
    """Make an earlier committed step the head again."""

    step: int = Field(ge=0)
    """The step to return to (0 is the scene's start)."""


Job = TurnJob | RewindJob
"""What a served session's render thread works through, in order."""
