"""A plan against the world: parse raw model output, then ask the simulator's event checker.

The bounds and the physics rules live in the simulator (:mod:`simulator.checks`, reading
:data:`simulator.limits.LIMITS`); this module adds only what is the planner's own: reading raw
output (a string, a dict, anything) into a plan, and repairing a near-miss entity id (``red_ball``
for ``ball``). Problems come back structured (:class:`simulator.checks.Problem`: code, path tuple,
value, message, fix), never as an exception.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agent.planner.formats.plan import PLAN_SCHEMA_VERSION, TurnPlan
from agent.planner.narration.describe import colour_name
from simulator.checks import Body, Path, Problem, apply_to_bodies, event_problems, json_safe, path_text, schema_problems
from simulator.checks import state_bodies
from simulator.limits import LIMITS
from simulator.scene import EVENT_TYPES, Event
from simulator.state import WorldState

_EVENT = TypeAdapter(Event)
_STOP = {"", "the", "a", "an", "of", "on", "my", "that", "this", "object", "entity"}
_PLAN_SHAPE = '{"narration": ..., "events": [...], "caption": ...}'


@dataclass
class Checked:
    """The result of :func:`check_plan`."""

    plan: TurnPlan | None
    """The plan with fixes applied, or None when problems remain."""
    issues: list[Problem]
    """The problems that remain after fixes (empty when `plan` is set)."""
    repairs: list[Problem] = field(default_factory=list)
    """The fixes that were applied."""


def validate(state: WorldState, plan: Any) -> list[Problem]:
    """Every problem with `plan` (TurnPlan, dict, JSON text or anything else) against `state`."""
    try:
        return _validate(state, plan)
    except Exception as exc:  # the promise is "problems, never an exception"
        return [Problem(code="internal", message=f"plan could not be checked: {exc!r}")]


def check_plan(state: WorldState, plan: Any) -> Checked:
    """Validate, apply the fixable problems' fixes, and validate again."""
    issues = validate(state, plan)
    if not issues:
        return Checked(plan=_as_plan(plan), issues=[])
    if any(i.fix is None for i in issues):
        return Checked(plan=None, issues=issues)
    fixed = plan.model_dump(mode="json") if isinstance(plan, TurnPlan) else _loads(plan)
    for i in issues:
        _set_path(fixed, i.path, i.fix)
    again = validate(state, fixed)
    if again:
        return Checked(plan=None, issues=again)
    return Checked(plan=TurnPlan.model_validate(fixed), issues=[], repairs=issues)


def _as_plan(plan: Any) -> TurnPlan:
    return plan if isinstance(plan, TurnPlan) else TurnPlan.model_validate(_loads(plan))


def _loads(plan: Any) -> Any:
    if isinstance(plan, bytes):
        plan = plan.decode("utf-8", errors="replace")
    if isinstance(plan, str):
        return json.loads(plan)
    return json.loads(json.dumps(plan)) if isinstance(plan, dict) else plan


def _validate(state: WorldState, plan: Any) -> list[Problem]:
    if isinstance(plan, TurnPlan):  # typed already: its fields passed their schema, only the world is left
        return _event_problems(state, list(enumerate(plan.events)))
    if isinstance(plan, (str, bytes)):
        try:
            raw = _loads(plan)
        except (ValueError, RecursionError) as exc:
            return [Problem(code="not_json", value=json_safe(plan),
                            message=f"the reply is not valid JSON ({exc}); reply with one JSON object {_PLAN_SHAPE}")]
    else:
        raw = plan
    if not isinstance(raw, dict):
        return [Problem(code="not_object", value=json_safe(raw),
                        message=f"a plan must be a JSON object, got {type(raw).__name__}; reply with {_PLAN_SHAPE}")]
    problems = _top_problems(raw)
    events = raw.get("events", [])
    if not isinstance(events, list):
        return problems
    parsed: list[tuple[int, Any]] = []
    for i, ev in enumerate(events):
        try:
            parsed.append((i, _EVENT.validate_python(ev)))
        except ValidationError as exc:
            problems += schema_problems(exc, ("events", i), EVENT_TYPES)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            problems.append(Problem(code="schema", path=("events", i), value=json_safe(ev),
                                    message=f"events[{i}]: not a valid event ({exc})"))
    return problems + _event_problems(state, parsed)


def _top_problems(raw: dict) -> list[Problem]:
    problems = [Problem(code="unknown_key", path=(str(key)[:80],), value=json_safe(raw[key]),
                        message=f"unknown key {str(key)[:80]!r}; a plan has only narration, events and caption")
                for key in raw if key not in TurnPlan.model_fields]
    if raw.get("schema_version", PLAN_SCHEMA_VERSION) != PLAN_SCHEMA_VERSION:
        problems.append(Problem(code="schema", path=("schema_version",), value=json_safe(raw["schema_version"]),
                                message=f"schema_version must be {PLAN_SCHEMA_VERSION}"))
    for key in ("narration", "caption"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(Problem(code="schema", path=(key,), value=json_safe(raw[key]),
                                    message=f"{key} must be a string of prose, got {type(raw[key]).__name__}"))
        elif key in raw:
            limit = TurnPlan.model_fields[key].metadata[0].max_length
            if len(raw[key]) > limit:
                problems.append(Problem(code="too_long", path=(key,), value=json_safe(raw[key]), fix=raw[key][:limit],
                                        message=f"{key} has {len(raw[key])} characters; keep it under {limit}"))
    events = raw.get("events", [])
    if not isinstance(events, list):
        problems.append(Problem(code="schema", path=("events",), value=json_safe(events),
                                message=f"events must be a list of events, got {type(events).__name__}"))
    elif len(events) > LIMITS.max_events_per_step:
        problems.append(Problem(code="too_many_events", path=("events",), value=len(events),
                                message=f"{len(events)} events; a turn has at most {LIMITS.max_events_per_step}"))
    return problems


def _event_problems(state: WorldState, parsed: list[tuple[int, Any]]) -> list[Problem]:
    """The simulator's checker on each parsed event in order, after repairing near-miss ids."""
    bodies = state_bodies(state.entities)
    words = {eid: _words(eid, e.shape, e.color, e.description) for eid, e in state.entities.items()}
    earlier: dict[str, str] = {}
    problems: list[Problem] = []
    for i, ev in parsed:
        repair = _repair(ev, bodies, words, earlier, ("events", i, "entity"))
        if repair is not None:
            problems.append(repair)
            ev = ev.model_copy(update={"entity": repair.fix})
        found = event_problems(ev, bodies, ("events", i), earlier)
        problems += found
        if not found:
            apply_to_bodies(ev, bodies, earlier)
            if ev.type == "spawn":
                words[ev.entity.id] = _words(ev.entity.id, ev.entity.shape, ev.entity.color, ev.entity.description)
    return problems


def _repair(ev: Any, bodies: dict[str, Body], words: dict[str, set[str]], earlier: dict[str, str],
            path: Path) -> Problem | None:
    """A near-miss id's fix, when the event names an entity that is not there but one clearly meant."""
    if ev.type == "spawn" or ev.entity in bodies or ev.entity in earlier:
        return None
    meant = _near_miss(ev.entity, {k: words[k] for k in bodies})
    if meant is None:
        return None
    return Problem(code="near_miss_id", path=path, value=ev.entity, fix=meant,
                   message=f"{path_text(path)}: {ev.entity!r} is not an id; resolved to {meant!r}")


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - _STOP


def _words(eid: str, shape: str, color: str, description: str) -> set[str]:
    return _tokens(eid) | _tokens(description) | {shape, colour_name(color)}


def _near_miss(name: Any, words: dict[str, set[str]]) -> str | None:
    """The one entity `name` clearly means, or None when no single entity matches well."""
    if not isinstance(name, str) or not words:
        return None
    norm = re.sub(r"[\s\-]+", "_", name.strip().lower())
    exact = [k for k in words if k.replace("-", "_") == norm.replace("-", "_")]
    if len(exact) == 1:
        return exact[0]
    toks = _tokens(name)
    if toks:
        by_id = [k for k, w in words.items() if _tokens(k) and _tokens(k) <= toks and toks <= w]
        if len(by_id) == 1:
            return by_id[0]
        by_words = [k for k, w in words.items() if toks <= w]
        if len(by_words) == 1:
            return by_words[0]
    close = difflib.get_close_matches(norm, list(words), n=2, cutoff=0.8)
    return close[0] if len(close) == 1 else None


def _set_path(root: Any, path: Path, value: Any) -> None:
    node = root
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
