"""Plan validation and repair: pure functions from (world state, raw plan) to issues.

Nothing here touches a World. Raw model output (a string, a dict, anything) comes back as issues,
never as an exception. A near-miss entity id (``red_ball`` for ``ball``) is an issue that carries
its repair; :func:`check_plan` applies such repairs and validates again.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from agent.planner.narration.describe import colour_name
from simulator.bounds import Box, bounding_box, entity_box, euler_quat
from agent.planner.formats.plan import MAX_EVENTS, PLAN_SCHEMA_VERSION, TurnPlan
from simulator.limits import LIMITS
from simulator.scene import EVENT_TYPES, Event, SpawnEvent
from simulator.state import WorldState

# The bounds are simulator.limits.LIMITS, the one set every entry point enforces.
MAX_SPEED = LIMITS.max_speed
"""Largest speed (m/s) an event may give a body."""
MAX_ACCEL = LIMITS.max_accel
"""Largest acceleration (m/s², about 10 g) a force may give a body."""
MAX_SIZE = LIMITS.max_size
"""Largest extent of a spawned body (m)."""
MIN_SIZE = LIMITS.min_size
"""Smallest extent of a spawned body (m)."""
MAX_MASS = LIMITS.max_mass
"""Heaviest mass (kg) an event may set."""
MAX_FRICTION = LIMITS.max_friction
"""Largest friction coefficient an event may set."""
MAX_REACH = LIMITS.world_extent
"""Farthest a spawn may be placed from the origin on any axis (m)."""
OVERLAP_TOLERANCE = 0.005
"""Spawns may interpenetrate existing bodies by at most this much (m)."""

_EVENT = TypeAdapter(Event)
_STOP = {"", "the", "a", "an", "of", "on", "my", "that", "this", "object", "entity"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class PlanIssue(BaseModel):
    """One problem with a plan, addressed by its path in the plan JSON."""

    path: str
    """Where in the plan, e.g. 'events[0].impulse' ('' for the whole plan)."""
    code: str
    """Machine-readable kind, e.g. 'unknown_entity', 'too_strong', 'not_json', 'near_miss_id'."""
    message: str
    """What is wrong and how to fix it, naming the field and the value."""
    value: Any = None
    """The offending value, made JSON-safe."""
    repair: Any = None
    """The replacement value when the issue can be repaired automatically (near-miss ids)."""


@dataclass
class Checked:
    """The outcome of :func:`check_plan`."""

    plan: TurnPlan | None
    """The plan with repairs applied, or None when issues remain."""
    issues: list[PlanIssue]
    """The issues that remain after repairs (empty when `plan` is set)."""
    repairs: list[PlanIssue] = field(default_factory=list)
    """The repairs that were applied."""


@dataclass
class _Body:
    mass: float
    fixed: bool
    box: Box
    words: set[str]


def validate(state: WorldState, plan: Any) -> list[PlanIssue]:
    """Every issue with `plan` (TurnPlan, dict, JSON text or anything else) against `state`."""
    try:
        return _validate(state, plan)
    except Exception as exc:  # the validator's promise is "issues, never an exception"
        return [PlanIssue(path="", code="internal", message=f"plan could not be checked: {exc!r}")]


def check_plan(state: WorldState, plan: Any) -> Checked:
    """Validate, apply the repairable issues' repairs, and validate again."""
    issues = validate(state, plan)
    if not issues:
        return Checked(plan=_as_plan(plan), issues=[])
    repairs = [i for i in issues if i.repair is not None]
    if len(repairs) < len(issues):
        return Checked(plan=None, issues=issues)
    fixed = _loads(plan) if not isinstance(plan, TurnPlan) else plan.model_dump(mode="json")
    for r in repairs:
        _set_path(fixed, r.path, r.repair)
    again = validate(state, fixed)
    if again:
        return Checked(plan=None, issues=again)
    return Checked(plan=TurnPlan.model_validate(fixed), issues=[], repairs=repairs)


def _as_plan(plan: Any) -> TurnPlan:
    return plan if isinstance(plan, TurnPlan) else TurnPlan.model_validate(_loads(plan))


def _loads(plan: Any) -> Any:
    if isinstance(plan, bytes):
        plan = plan.decode("utf-8", errors="replace")
    if isinstance(plan, str):
        return json.loads(plan)
    return json.loads(json.dumps(plan)) if isinstance(plan, dict) else plan


def _validate(state: WorldState, plan: Any) -> list[PlanIssue]:
    if isinstance(plan, TurnPlan):
        raw: Any = plan.model_dump(mode="python")
    elif isinstance(plan, (str, bytes)):
        try:
            raw = _loads(plan)
        except (ValueError, RecursionError) as exc:
            return [PlanIssue(path="", code="not_json", value=_safe(plan),
                              message=f"the reply is not valid JSON ({exc}); reply with one JSON object "
                                      '{"narration": ..., "events": [...], "caption": ...}')]
    else:
        raw = plan
    if not isinstance(raw, dict):
        return [PlanIssue(path="", code="not_object", value=_safe(raw),
                          message=f"a plan must be a JSON object, got {type(raw).__name__}; reply with "
                                  '{"narration": ..., "events": [...], "caption": ...}')]
    issues = _check_top(raw)
    events = raw.get("events", [])
    if not isinstance(events, list):
        return issues
    parsed = []
    for i, ev in enumerate(events):
        try:
            parsed.append((i, _EVENT.validate_python(ev)))
        except ValidationError as exc:
            issues += _from_pydantic(exc, f"events[{i}]")
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            issues.append(PlanIssue(path=f"events[{i}]", code="schema", value=_safe(ev),
                                    message=f"events[{i}]: not a valid event ({exc})"))
    return issues + _check_events(state, parsed)


def _check_top(raw: dict) -> list[PlanIssue]:
    issues = []
    for key in raw:
        if key not in TurnPlan.model_fields:
            issues.append(PlanIssue(path=str(key)[:80], code="schema", value=_safe(raw[key]),
                                    message=f"unknown key {str(key)[:80]!r}; a plan has only narration, "
                                            "events and caption"))
    if raw.get("schema_version", PLAN_SCHEMA_VERSION) != PLAN_SCHEMA_VERSION:
        issues.append(PlanIssue(path="schema_version", code="schema", value=_safe(raw["schema_version"]),
                                message=f"schema_version must be {PLAN_SCHEMA_VERSION}"))
    for key in ("narration", "caption"):
        if key in raw and not isinstance(raw[key], str):
            issues.append(PlanIssue(path=key, code="schema", value=_safe(raw[key]),
                                    message=f"{key} must be a string of prose, got {type(raw[key]).__name__}"))
        elif key in raw:
            limit = TurnPlan.model_fields[key].metadata[0].max_length
            if len(raw[key]) > limit:
                issues.append(PlanIssue(path=key, code="too_long", value=_safe(raw[key]), repair=raw[key][:limit],
                                        message=f"{key} has {len(raw[key])} characters; keep it under {limit}"))
    events = raw.get("events", [])
    if not isinstance(events, list):
        issues.append(PlanIssue(path="events", code="schema", value=_safe(events),
                                message=f"events must be a list of events, got {type(events).__name__}"))
    elif len(events) > MAX_EVENTS:
        issues.append(PlanIssue(path="events", code="too_many_events", value=len(events),
                                message=f"{len(events)} events; a turn has at most {MAX_EVENTS}"))
    return issues


def _from_pydantic(exc: ValidationError, base: str) -> list[PlanIssue]:
    out = []
    for err in exc.errors(include_url=False)[:6]:
        loc = [p for p in err["loc"] if p not in EVENT_TYPES]
        path = base + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        name = next((p for p in reversed(loc) if isinstance(p, str)), "")
        msg = err["msg"]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            code, msg = "schema", f"event type must be one of {', '.join(EVENT_TYPES)}"
        elif name == "mass" and err["type"] in ("greater_than", "greater_than_equal"):
            code, msg = "negative_mass", f"mass must be at least {LIMITS.min_mass:g} kg"
        elif name == "mass" and err["type"] == "less_than_equal":
            code = "too_heavy"
        elif name == "velocity" and "m/s" in msg:
            code = "too_fast"
        elif name in ("impulse", "force") and "the limit" in msg:
            code = "too_strong"
        elif name == "position" and "outside the world" in msg:
            code = "too_far"
        elif name == "friction" and err["type"] == "greater_than_equal":
            code = "negative_friction"
        elif "finite" in msg:
            code = "not_finite"
        elif name == "color" or "colour" in msg:
            code, msg = "bad_color", "colour must be '#rrggbb' hex, e.g. '#ff0000'"
        elif "size" in msg:
            code = "bad_size"
        else:
            code = "schema"
        out.append(PlanIssue(path=path, code=code, value=_safe(err.get("input")), message=f"{path}: {msg}"))
    return out


def _check_events(state: WorldState, parsed: list[tuple[int, Any]]) -> list[PlanIssue]:
    bodies = {eid: _Body(e.mass, e.fixed, entity_box(e), _words(eid, e.shape, e.color, e.description))
              for eid, e in state.entities.items()}
    removed: set[str] = set()
    spawned: set[str] = set()
    issues: list[PlanIssue] = []
    for i, ev in parsed:
        p = f"events[{i}]"
        bad = _non_finite(ev.model_dump(mode="python"))
        if bad:
            issues.append(PlanIssue(path=f"{p}.{bad[0]}", code="not_finite", value=_safe(bad[1]),
                                    message=f"{p}.{bad[0]}: {bad[1]} is not a finite number"))
            continue
        if isinstance(ev, SpawnEvent):
            issues += _check_spawn(p, ev, bodies, spawned)
            continue
        eid = ev.entity
        if eid not in bodies:
            repair = None if eid in removed else _near_miss(eid, bodies)
            if repair is None:
                code = "removed_entity" if eid in removed else "unknown_entity"
                known = ", ".join(bodies) or "none"
                issues.append(PlanIssue(path=f"{p}.entity", code=code, value=_safe(eid),
                                        message=f"{p}.entity: no entity {eid!r} ({'removed earlier in this plan' if eid in removed else 'unknown'}); use one of: {known}"))
                continue
            issues.append(PlanIssue(path=f"{p}.entity", code="near_miss_id", value=eid, repair=repair,
                                    message=f"{p}.entity: {eid!r} is not an id; resolved to {repair!r}"))
            eid = repair
        issues += _check_effect(p, ev, eid, bodies[eid])
        if ev.type == "remove":
            del bodies[eid]
            removed.add(eid)
        elif ev.type == "set_property":
            if ev.fixed is not None:
                bodies[eid].fixed = ev.fixed
            if ev.mass is not None and 0 < ev.mass <= MAX_MASS:
                bodies[eid].mass = ev.mass
    return issues


def _check_effect(p: str, ev: Any, eid: str, body: _Body) -> list[PlanIssue]:
    kind = ev.type
    if kind in ("apply_impulse", "apply_force", "set_velocity") and body.fixed:
        return [PlanIssue(path=f"{p}.entity", code="fixed_body", value=eid,
                          message=f"{p}: {kind} on fixed entity {eid!r} has no effect; pick a free entity, "
                                  "or release it first with set_property fixed: false")]
    if kind == "apply_impulse":
        dv = _norm(ev.impulse) / body.mass
        if dv > MAX_SPEED:
            ok = MAX_SPEED / 4 * body.mass
            return [PlanIssue(path=f"{p}.impulse", code="too_strong", value=list(ev.impulse),
                              message=f"{p}.impulse: {list(ev.impulse)} N*s gives {eid} ({body.mass:.3g} kg) "
                                      f"{dv:.3g} m/s; keep |impulse| under {ok:.3g} N*s for this body")]
    elif kind == "apply_force":
        acc = _norm(ev.force) / body.mass
        if acc > MAX_ACCEL or acc * ev.duration > MAX_SPEED:
            return [PlanIssue(path=f"{p}.force", code="too_strong", value=list(ev.force),
                              message=f"{p}.force: {list(ev.force)} N for {ev.duration} s accelerates {eid} "
                                      f"({body.mass:.3g} kg) at {acc:.3g} m/s^2; keep |force| under "
                                      f"{20 * body.mass:.3g} N")]
    elif kind == "set_velocity" and _norm(ev.velocity) > MAX_SPEED:
        return [PlanIssue(path=f"{p}.velocity", code="too_fast", value=list(ev.velocity),
                          message=f"{p}.velocity: {_norm(ev.velocity):.3g} m/s is too fast; keep it under "
                                  f"{MAX_SPEED:g} m/s")]
    elif kind == "set_property":
        if ev.mass is not None and ev.mass > MAX_MASS:
            return [PlanIssue(path=f"{p}.mass", code="too_heavy", value=ev.mass,
                              message=f"{p}.mass: {ev.mass} kg; keep masses under {MAX_MASS:g} kg")]
        if ev.friction is not None and ev.friction > MAX_FRICTION:
            return [PlanIssue(path=f"{p}.friction", code="too_large", value=ev.friction,
                              message=f"{p}.friction: {ev.friction}; friction coefficients lie in 0 to {MAX_FRICTION:g}")]
    return []


def _check_spawn(p: str, ev: SpawnEvent, bodies: dict[str, _Body], spawned: set[str]) -> list[PlanIssue]:
    e = ev.entity
    q = f"{p}.entity"
    if e.id in spawned:
        return [PlanIssue(path=f"{q}.id", code="duplicate_spawn", value=e.id,
                          message=f"{q}.id: {e.id!r} is spawned twice in this plan; give each spawn its own id")]
    if e.id in bodies:
        return [PlanIssue(path=f"{q}.id", code="spawn_exists", value=e.id,
                          message=f"{q}.id: {e.id!r} already exists; choose a new id")]
    spawned.add(e.id)
    if max(e.size) > MAX_SIZE or min(e.size) < MIN_SIZE:
        return [PlanIssue(path=f"{q}.size", code="bad_size", value=list(e.size),
                          message=f"{q}.size: {list(e.size)} m; sizes lie between {MIN_SIZE} and {MAX_SIZE} m")]
    if max(abs(x) for x in e.position) > MAX_REACH:
        return [PlanIssue(path=f"{q}.position", code="too_far", value=list(e.position),
                          message=f"{q}.position: {list(e.position)} is more than {MAX_REACH:g} m away; "
                                  "place it near the other bodies")]
    if _norm(e.velocity) > MAX_SPEED:
        return [PlanIssue(path=f"{q}.velocity", code="too_fast", value=list(e.velocity),
                          message=f"{q}.velocity: keep it under {MAX_SPEED:g} m/s")]
    if e.mass is not None and e.mass > MAX_MASS:
        return [PlanIssue(path=f"{q}.mass", code="too_heavy", value=e.mass,
                          message=f"{q}.mass: {e.mass} kg; keep masses under {MAX_MASS:g} kg")]
    box = bounding_box(e.shape, e.size, e.position, euler_quat(e.orientation))
    if box.lo[2] < -OVERLAP_TOLERANCE:
        return [PlanIssue(path=f"{q}.position", code="below_floor", value=list(e.position),
                          message=f"{q}.position: the body reaches z = {box.lo[2]:.3f} m, below the floor; "
                                  f"raise its centre to at least z = {e.position[2] - box.lo[2]:.3f}")]
    for other, body in bodies.items():
        depth = box.penetration(body.box)
        if depth > OVERLAP_TOLERANCE:
            return [PlanIssue(path=f"{q}.position", code="spawn_overlap", value=list(e.position),
                              message=f"{q}.position: {e.id!r} at {list(e.position)} overlaps {other!r} by "
                                      f"{depth:.3f} m; move it clear, e.g. above it at z = "
                                      f"{body.box.hi[2] + (e.position[2] - box.lo[2]):.3f}")]
    bodies[e.id] = _Body(e.nominal_mass(), e.fixed, box,
                         _words(e.id, e.shape, e.color, e.description))
    return []


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - _STOP


def _words(eid: str, shape: str, color: str, description: str) -> set[str]:
    return _tokens(eid) | _tokens(description) | {shape, colour_name(color)}


def _near_miss(name: Any, bodies: dict[str, _Body]) -> str | None:
    """The one entity `name` clearly means, or None when no single entity matches well."""
    if not isinstance(name, str) or not bodies:
        return None
    norm = re.sub(r"[\s\-]+", "_", name.strip().lower())
    exact = [k for k in bodies if k.replace("-", "_") == norm.replace("-", "_")]
    if len(exact) == 1:
        return exact[0]
    toks = _tokens(name)
    if toks:
        by_id = [k for k, b in bodies.items() if _tokens(k) and _tokens(k) <= toks and toks <= b.words]
        if len(by_id) == 1:
            return by_id[0]
        by_words = [k for k, b in bodies.items() if toks <= b.words]
        if len(by_words) == 1:
            return by_words[0]
    close = difflib.get_close_matches(norm, list(bodies), n=2, cutoff=0.8)
    return close[0] if len(close) == 1 else None


def _non_finite(node: Any, path: str = "") -> tuple[str, Any] | None:
    if isinstance(node, float) and not math.isfinite(node):
        return path.lstrip("."), node
    if isinstance(node, dict):
        for k, v in node.items():
            hit = _non_finite(v, f"{path}.{k}")
            if hit:
                return hit
    if isinstance(node, (list, tuple)):
        for j, v in enumerate(node):
            hit = _non_finite(v, f"{path}[{j}]")
            if hit:
                return hit
    return None


def _norm(v) -> float:
    return math.sqrt(sum(x * x for x in v))


def _safe(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded copy of an offending value."""
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**53):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value[:200]
    if depth < 3 and isinstance(value, (list, tuple)):
        return [_safe(v, depth + 1) for v in value[:8]]
    if depth < 3 and isinstance(value, dict):
        return {str(k)[:40]: _safe(v, depth + 1) for k, v in list(value.items())[:8]}
    return repr(value)[:200]


def _set_path(root: Any, path: str, value: Any) -> None:
    parts = re.findall(r"\[(\d+)\]|\.?([A-Za-z_][A-Za-z0-9_]*)", path)
    node = root
    keys = [int(a) if a else b for a, b in parts]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
