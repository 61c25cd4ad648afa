"""The events plan format: the model writes the whole plan (narration, events, caption) under a JSON
Schema; the simulator's checker judges it, and rejected plans go back with the reasons (:func:`ask`).
"""

from __future__ import annotations

import json
import re
import time

from agent.planner.ask import ask
from agent.planner.backends.base import Backend, PlanRequest
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan, plan_json_schema
from agent.planner.formats.prompts import build_messages, retry_messages
from agent.planner.narration.describe import caption_for
from agent.planner.record import PlannedTurn, PlanRecord
from agent.planner.settings import PlannerSettings
from agent.planner.validation import Checked, check_plan
from simulator.state import WorldState

_NARRATION = re.compile(r'"narration"\s*:\s*"((?:[^"\\]|\\.)*)')


def plan_events(backend: Backend, settings: PlannerSettings, state: WorldState, action: str,
                history: list[str]) -> PlannedTurn:
    """Ask for a plan, check it, retry with the reasons; fall back to no events, narration kept."""
    start = time.perf_counter()
    messages = build_messages(state, action, history, settings.prompt_version)
    free = [eid for eid, e in state.entities.items() if not e.fixed]
    schema = plan_json_schema(list(state.entities), free) if settings.constrain_ids else plan_json_schema()
    request = PlanRequest(messages=messages, schema=schema, seed=settings.seed, max_tokens=settings.max_tokens,
                          temperature=settings.temperature, context={"action": action, "state": state})

    def parse(text: str) -> tuple[Checked | None, list]:
        checked = check_plan(state, text)
        return (checked if checked.plan is not None else None), checked.issues

    def follow_up(text: str, problems: list) -> list[dict[str, str]]:
        return retry_messages(text, [p.message for p in problems], settings.prompt_version)

    asked = ask(backend, request, parse, follow_up, settings.max_retries)
    if asked.value is None:
        narration = _salvage_narration([a.raw for a in asked.attempts]) or action[:NARRATION_MAX]
        plan, repairs = TurnPlan(narration=narration, events=[], caption=caption_for(state, narration)), []
    else:
        plan, repairs = asked.value.plan, asked.value.repairs
        if not plan.caption.strip():
            plan = plan.model_copy(update={"caption": caption_for(state, plan.narration)})
    record = PlanRecord(plan_format="events", prompt_version=settings.prompt_version, backend=backend.name,
                        model=backend.model, seed=backend.seed if settings.seed is None else settings.seed,
                        action=action, attempts=asked.attempts, repairs=repairs, fell_back=asked.value is None,
                        plan=plan)
    return PlannedTurn(plan=plan, record=record.timed(time.perf_counter() - start))


def _salvage_narration(raws: list[str]) -> str:
    """The narration of the latest reply that has one, even when its JSON never closed."""
    for raw in reversed(raws):
        try:
            value = json.loads(raw).get("narration")
        except (ValueError, AttributeError):
            m = _NARRATION.search(raw)
            value = _unescape(m.group(1)) if m else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:NARRATION_MAX]
    return ""


def _unescape(fragment: str) -> str:
    try:
        return json.loads(f'"{fragment}"')
    except ValueError:
        return fragment.replace('\\"', '"')
