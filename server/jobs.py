"""What a served session's render thread works through: queued jobs, the planner it shares with the
other sessions, and the exceptions that end a turn early."""

from __future__ import annotations

import threading
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
