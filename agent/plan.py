"""The plan the left brain returns for one turn (minimal; the planner issue extends it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simulator.scene import Event

PLAN_SCHEMA_VERSION = 1


class TurnPlan(BaseModel):
    """What happens this turn: events for physics, words for people, a caption for the video model."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PLAN_SCHEMA_VERSION
    """Plan format version."""
    narration: str = ""
    """What happens, in prose."""
    events: list[Event] = []
    """Physical events to apply at the start of the turn."""
    caption: str = ""
    """A detailed visual description of the coming segment, for the video renderer."""
