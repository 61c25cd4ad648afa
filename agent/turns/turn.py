"""What a turn is asked to do (:class:`TurnRequest`) and what it committed (:class:`TurnRecord`).

A request is checked once, where it enters (the CLI, the REPL, the server, the Gymnasium facade),
and travels as this typed object after that. A record is what every consumer of a turn reads:
the plan and its narration, the blob references of its frames, states and trajectory.

Steps, one convention: a session's *step* n is its world after n committed turns (step 0 is the
scene's start), so a step counts turns. A turn is known by the step it starts from: turn
``step`` (0-based, :attr:`TurnRecord.step`, also the world's step index while it plays) takes the
session from step ``step`` to step :attr:`TurnRecord.end_step` (``step + 1``). The wire (``narration``,
``progress``, ``rewind``), the REPL and the Gymnasium ``info`` speak of steps; a person reads turn
``step`` as "turn ``end_step``" (the first turn is turn 1 and ends at step 1).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.planner import PlanRecord, TurnPlan
from simulator.scene import StepSpec

TURN_RECORD_SCHEMA_VERSION = 2


class TurnRequest(StepSpec):
    """One turn as asked for: an action in words, optional pinned events, and seconds to simulate
    (none given: until the bodies come to rest).

    A scene file's step is one. ``events`` given (even ``[]``) play as written; a request with no
    action and no events is a pause: time passes and no planner is asked.
    """

    @property
    def pinned(self) -> bool:
        """True when no planner is asked: the events are given, or there is nothing to plan."""
        return self.events is not None or not (self.action or "").strip()


class TurnRecord(BaseModel):
    """One committed turn, as kept in the commit checkpoint: references only, no pixels."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = TURN_RECORD_SCHEMA_VERSION
    """Version of this record's layout."""
    step: int
    """Turn index (0-based): the session's step this turn started from; the world's step index while it played."""
    action: str
    """What the user asked for ('' for a pause)."""
    pinned: bool
    """True when the events were given (by the user or the scene file) and played as written."""
    duration: float
    """Seconds simulated."""
    until_rest: bool = False
    """True when the request gave no duration: the turn ran until its bodies came to rest."""
    plan: TurnPlan
    """The applied plan."""
    plan_record: PlanRecord | None = None
    """The planner's own record of the call (model, attempts, raw output), when a model planned."""
    problems: list[str] = Field(default_factory=list)
    """Validation problems of rejected attempts, and events dropped when attempts ran out."""
    outcome: dict[str, Any] | None = None
    """What the physics did, from the states before, during and after (moved, appeared, vanished, ...)."""
    disagreement: dict[str, Any] | None = None
    """None when the planned narration agreed with the outcome; else the planned narration, the
    reasons it contradicted the physics, and the outcome sentence that replaced it."""
    snapshot_sha: str
    """sha256 of the physics snapshot after the turn."""
    time: float
    """Simulated time after the turn (s)."""
    segment: str
    """Blob reference of the segment manifest (frame references, MP4 reference, fps)."""
    states: str
    """Blob reference of the per-frame state JSONL (``{"step","time","entities"}`` lines)."""
    trajectory: str | None = None
    """Blob reference of the per-frame integration states (float64 array), to re-render the turn."""
    frames: int
    """Frames in the segment."""

    @property
    def end_step(self) -> int:
        """The session's step once this turn is committed (``step + 1``: turns committed by then)."""
        return self.step + 1

    @property
    def narration(self) -> str:
        """What the turn says happened."""
        return self.plan.narration

    @property
    def request(self) -> TurnRequest:
        """The request this turn answered (events only when they were pinned)."""
        events = list(self.plan.events) if self.pinned else None
        return TurnRequest(action=self.action or None, events=events, duration=None if self.until_rest else self.duration)


def as_record(value: TurnRecord | dict) -> TurnRecord:
    """A committed turn from a checkpoint: the record itself, or one read from the JSON a graph
    schema 2 checkpoint (before typed state) holds."""
    return value if isinstance(value, TurnRecord) else TurnRecord.model_validate(value)
