"""The scripted backend: a step's pinned events, played as written."""

from __future__ import annotations

from agent.plan import TurnPlan
from simulator.scene import StepSpec
from simulator.state import WorldState


def describe_scene(state: WorldState) -> str:
    parts = [f"{e.description or e.color + ' ' + e.shape} ({eid})" for eid, e in state.entities.items()]
    return "; ".join(parts)


def scripted_plan(state: WorldState, step: StepSpec) -> TurnPlan:
    action = step.action or ""
    caption = f"A steady camera watches: {describe_scene(state)}. {action}".strip()
    return TurnPlan(narration=action, events=list(step.events or []), caption=caption)
