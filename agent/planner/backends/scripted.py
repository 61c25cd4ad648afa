"""The scripted backend: no model at all; it plans no events and narrates the action."""

from __future__ import annotations

from agent.planner.backends.base import Backend, Completion, PlanRequest
from agent.planner.narration.describe import caption_for
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan
from simulator.state import WorldState


class ScriptedBackend(Backend):
    """Plans no events: the narration is the action, the caption comes from the world state."""

    name = "scripted"
    can_generate = False
    model = "scripted"

    def __init__(self, seed: int = 0, **_: object):
        self.seed = seed

    def complete(self, request: PlanRequest) -> Completion:
        action = str(request.context.get("action", ""))[:NARRATION_MAX]
        state = request.context.get("state")
        caption = caption_for(state, action) if isinstance(state, WorldState) else action
        return Completion(text=TurnPlan(narration=action, caption=caption).model_dump_json(), model=self.model,
                          finish_reason="stop")
