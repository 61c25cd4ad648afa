"""The scripted backend: a step's pinned events, played as written, with no model at all."""

from __future__ import annotations

from collections.abc import Sequence

from agent.backends.base import Backend, Completion, PlanRequest
from agent.describe import caption_for
from agent.plan import NARRATION_MAX, TurnPlan
from simulator.scene import Event, StepSpec
from simulator.state import WorldState


def pinned_plan(state: WorldState, action: str, events: Sequence[Event | dict]) -> TurnPlan:
    """A plan that plays `events` as written, with the action (bounded) as its narration."""
    action = action[:NARRATION_MAX]
    return TurnPlan(narration=action, events=list(events), caption=caption_for(state, action))


def scripted_plan(state: WorldState, step: StepSpec) -> TurnPlan:
    """The plan for a scene step played as written: its pinned events, its action as the narration."""
    return pinned_plan(state, step.action or "", step.events or [])


class ScriptedBackend(Backend):
    """Plans no events: the narration is the action, the caption comes from the world state."""

    name = "scripted"
    model = "scripted"

    def __init__(self, seed: int = 0, **_: object):
        self.seed = seed

    def complete(self, request: PlanRequest) -> Completion:
        action = str(request.context.get("action", ""))[:NARRATION_MAX]
        state = request.context.get("state")
        caption = caption_for(state, action) if isinstance(state, WorldState) else action
        return Completion(text=TurnPlan(narration=action, caption=caption).model_dump_json(), model=self.model,
                          finish_reason="stop")
