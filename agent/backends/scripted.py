"""The scripted backend: a step's pinned events, played as written, with no model at all."""

from __future__ import annotations

from agent.backends.base import Backend, Completion, PlanRequest
from agent.describe import caption_for
from agent.plan import NARRATION_MAX, TurnPlan
from simulator.scene import StepSpec
from simulator.state import WorldState


def describe_scene(state: WorldState) -> str:
    """A one-line caption of the world from its entities' own descriptions."""
    return caption_for(state)


def scripted_plan(state: WorldState, step: StepSpec) -> TurnPlan:
    """The plan for a step played as written: its pinned events, its action as the narration."""
    action = (step.action or "")[:NARRATION_MAX]
    return TurnPlan(narration=action, events=list(step.events or []), caption=caption_for(state, action))


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
