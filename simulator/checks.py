"""The one event checker: what makes a list of events valid for a world.

Every entry point asks this module: a scene file's pinned steps (:class:`simulator.scene.Scene`),
``callosum check``, :meth:`simulator.world.World.check` (and so ``World.apply``), and the planner's
``validate(state, plan)``. A problem is structured (a code, a path as a tuple, the value, a message
that names the field, the value and the fix), never English to be parsed back.

Field-level bounds (a finite vector, a speed cap, a colour) live on the event models; their
:class:`~simulator.limits.LimitError` carries a code, and :func:`schema_problems` turns a pydantic
``ValidationError`` into problems by those codes and pydantic's own error types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from simulator.bounds import Box, bounding_box, entity_box, euler_quat, volume
from simulator.limits import LIMITS, LimitError, norm
from simulator.materials import material_mass
from simulator.place import place_problem, upright

Path = tuple[str | int, ...]
Event = Any
"""An event of :data:`simulator.scene.Event` (this module reads them by ``type``; the scene imports it)."""

GROUND_ID = "ground"
"""The floor's reserved id: set_property on it changes the floor's surface and colour."""
GROUND_PROPERTIES = ("color", "friction", "material", "bounciness")
"""What set_property may change on the ground."""
OVERLAP_TOLERANCE = 0.005
"""A spawn may interpenetrate an existing body by at most this much (m)."""

_PYDANTIC_CODES = {
    "finite_number": "not_finite", "greater_than": "too_small", "greater_than_equal": "too_small",
    "less_than": "too_large", "less_than_equal": "too_large", "too_long": "too_long", "too_short": "too_short",
    "union_tag_invalid": "unknown_event_type", "union_tag_not_found": "unknown_event_type",
    "extra_forbidden": "unknown_key", "missing": "missing", "string_pattern_mismatch": "bad_id",
    "literal_error": "bad_value",
}


class Problem(BaseModel):
    """One reason a plan or an event list cannot apply."""

    model_config = ConfigDict(frozen=True)

    code: str
    """Machine-readable kind: 'unknown_entity', 'fixed_body', 'too_strong', 'spawn_overlap', ..."""
    path: Path = ()
    """Where: ('events', 0, 'impulse'); () for the whole plan."""
    message: str
    """What is wrong and how to fix it, naming the field and the value."""
    value: Any = None
    """The offending value, JSON-safe."""
    fix: Any = None
    """The replacement value where it is unambiguous (a near-miss entity id); None otherwise."""

    @property
    def where(self) -> str:
        """The path as text: 'events[0].impulse'."""
        return path_text(self.path)

    def __str__(self) -> str:
        return self.message


def path_text(path: Path) -> str:
    """('events', 0, 'impulse') -> 'events[0].impulse'."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass
class Body:
    """What the checks know of an entity: held or free, its mass and volume, its bounds when known."""

    fixed: bool
    mass: float
    box: Box | None = None
    volume: float = 0.0
    """m³: a new material's mass is its density times this."""
    shape: str = "box"
    """Its primitive shape (a composite's: the box around its parts), for where a placement ends."""
    size: tuple[float, ...] = ()
    """Its size in the scene's convention."""
    quat: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
    """Its orientation now (wxyz)."""


def spec_body(e: Any, *, with_box: bool = True) -> Body:
    """The checks' view of an entity as a scene file (or a spawn) describes it (an :class:`EntitySpec`)."""
    quat = euler_quat(e.orientation)
    box = bounding_box(e.shape, e.size, e.position, quat) if with_box else None
    return Body(e.fixed, e.nominal_mass(), box, e.volume(), e.shape, tuple(e.size), quat)


def state_bodies(entities: Mapping[str, Any]) -> dict[str, Body]:
    """The checks' view of exported entity states (:class:`simulator.state.EntityState`)."""
    return {eid: Body(e.fixed, e.mass, entity_box(e), volume(e.shape, e.size), e.shape, tuple(e.size),
                      tuple(e.orientation)) for eid, e in entities.items()}


def mass_problem(mass: float, material_name: str) -> str | None:
    """Why a body of `material_name` weighing `mass` kg (density x volume) is beyond the mass limits."""
    if LIMITS.min_mass <= mass <= LIMITS.max_mass:
        return None
    return (f"a body this size of {material_name} weighs {mass:.4g} kg, beyond the limits "
            f"[{LIMITS.min_mass:g}, {LIMITS.max_mass:g}] kg; give a mass or change the size")


def check_events(events: Sequence[Event], bodies: dict[str, Body], base: Path = ("events",)) -> list[Problem]:
    """Every problem with applying `events` in order to a world of `bodies` (updated as they apply)."""
    problems = []
    if len(events) > LIMITS.max_events_per_step:
        problems.append(Problem(code="too_many_events", path=base, value=len(events),
                                message=f"{path_text(base)}: {len(events)} events; a step has at most "
                                        f"{LIMITS.max_events_per_step}"))
    earlier: dict[str, str] = {}
    for i, ev in enumerate(events):
        found = event_problems(ev, bodies, (*base, i), earlier)
        problems += found
        if not found:
            apply_to_bodies(ev, bodies, earlier)
    return problems


def event_problems(ev: Event, bodies: dict[str, Body], path: Path, earlier: Mapping[str, str] | None = None) -> list[Problem]:
    """Why `ev` cannot apply to a world of `bodies` (empty when it can). `earlier`: what the events
    before it in the same list did to an id ('spawned' or 'removed'), for clearer messages."""
    earlier = earlier or {}
    if ev.type == "spawn":
        return _spawn_problems(ev.entity, bodies, (*path, "entity"), earlier.get(ev.entity.id) == "spawned")
    where = path_text(path)
    if ev.type == "set_property" and ev.entity == GROUND_ID:
        return _ground_problems(ev, path)
    if ev.entity not in bodies:
        gone = earlier.get(ev.entity) == "removed"
        known = ", ".join(sorted(bodies)) or "none"
        return [Problem(code="removed_entity" if gone else "unknown_entity", path=(*path, "entity"), value=ev.entity,
                        message=f"{where}: unknown entity {ev.entity!r} in {ev.type}"
                                f"{' (removed earlier in this step)' if gone else ''}; known entities: {known}")]
    body = bodies[ev.entity]
    kind = ev.type
    if kind in ("apply_impulse", "apply_force", "set_velocity", "place") and body.fixed:
        return [Problem(code="fixed_body", path=(*path, "entity"), value=ev.entity,
                        message=f"{where}: {kind} on fixed entity {ev.entity!r} has no effect; release it first "
                                "with set_property fixed: false, or pick a free entity")]
    if kind == "set_property" and ev.material is not None and ev.mass is None:
        problem = mass_problem(material_mass(ev.material, body.volume), ev.material)
        if problem:
            return [Problem(code="too_heavy_or_light", path=(*path, "material"), value=ev.material,
                            message=f"{path_text((*path, 'material'))}: {problem}")]
    if kind == "place":
        return place_problems(ev, bodies, path)
    return _effect_problems(ev, body, path)


def place_problems(ev: Event, bodies: dict[str, Body], path: Path = ("events", 0), *,
                   scenery_only: bool = True) -> list[Problem]:
    """Where a carried body ends: not below the floor, not inside fixed scenery. Free bodies count only
    with ``scenery_only=False`` (they move while a step plays; a planner asks about them against the
    live world, :meth:`simulator.world.World.placement_problem`)."""
    body = bodies[ev.entity]
    others = {eid: b.box for eid, b in bodies.items() if b.box is not None and (b.fixed or not scenery_only)}
    problem = place_problem(ev.entity, body.shape, body.size, body.quat, ev.position, others, LIMITS.place_tolerance)
    if problem is None:
        return []
    return [Problem(code="bad_placement", path=(*path, "position"), value=list(ev.position),
                    message=f"{path_text((*path, 'position'))}: {problem}")]


def _ground_problems(ev: Event, path: Path) -> list[Problem]:
    """set_property on the ground changes only the floor's surface and colour."""
    other = sorted(set(ev.model_dump(exclude={"type", "entity"}, exclude_none=True)) - set(GROUND_PROPERTIES))
    if not other:
        return []
    return [Problem(code="not_for_ground", path=(*path, other[0]), value=other,
                    message=f"{path_text(path)}: set_property on the ground cannot change {', '.join(other)}; the "
                            f"ground takes {', '.join(GROUND_PROPERTIES)} only")]


def _effect_problems(ev: Event, body: Body, path: Path) -> list[Problem]:
    """The mass-aware limits: the speed an impulse gives, the acceleration a force gives."""
    kind, mass, eid = ev.type, body.mass, ev.entity
    if kind == "apply_impulse" and norm(ev.impulse) / mass > LIMITS.max_speed:
        dv = norm(ev.impulse) / mass
        return [Problem(code="too_strong", path=(*path, "impulse"), value=list(ev.impulse),
                        message=f"{path_text((*path, 'impulse'))}: {list(ev.impulse)} N*s gives {eid} ({mass:.3g} kg) "
                                f"{dv:.3g} m/s; keep |impulse| under {LIMITS.max_speed * mass:.3g} N*s for this body "
                                f"(at most {LIMITS.max_speed:g} m/s)")]
    if kind == "apply_force":
        acc = norm(ev.force) / mass
        if acc > LIMITS.max_accel or acc * ev.duration > LIMITS.max_speed:
            cap = min(LIMITS.max_accel, LIMITS.max_speed / ev.duration) * mass
            return [Problem(code="too_strong", path=(*path, "force"), value=list(ev.force),
                            message=f"{path_text((*path, 'force'))}: {list(ev.force)} N for {ev.duration} s "
                                    f"accelerates {eid} ({mass:.3g} kg) at {acc:.3g} m/s^2; keep |force| under {cap:.3g} N")]
    return []


def _spawn_problems(e: Any, bodies: dict[str, Body], path: Path, twice: bool) -> list[Problem]:
    where = path_text((*path, "id"))
    if twice:
        return [Problem(code="duplicate_spawn", path=(*path, "id"), value=e.id,
                        message=f"{where}: {e.id!r} is spawned twice in this step; give each spawn its own id")]
    if e.id in bodies:
        return [Problem(code="spawn_exists", path=(*path, "id"), value=e.id,
                        message=f"{where}: {e.id!r} already exists; choose a new id")]
    if len(bodies) >= LIMITS.max_entities:
        return [Problem(code="too_many_entities", path=(*path, "id"), value=e.id,
                        message=f"{where}: spawning {e.id!r} would make {len(bodies) + 1} entities; the limit is "
                                f"{LIMITS.max_entities}")]
    box = spec_body(e).box
    at = path_text((*path, "position"))
    if box.lo[2] < -OVERLAP_TOLERANCE:
        return [Problem(code="below_floor", path=(*path, "position"), value=list(e.position),
                        message=f"{at}: {e.id!r} reaches z = {box.lo[2]:.3f} m, below the floor; raise its centre "
                                f"to at least z = {e.position[2] - box.lo[2]:.3f}")]
    for other, body in bodies.items():
        depth = box.penetration(body.box) if body.box is not None else 0.0
        if depth > OVERLAP_TOLERANCE:
            return [Problem(code="spawn_overlap", path=(*path, "position"), value=list(e.position),
                            message=f"{at}: {e.id!r} at {list(e.position)} overlaps {other!r} by {depth:.3f} m; move "
                                    f"it clear, e.g. above it at z = {body.box.hi[2] + (e.position[2] - box.lo[2]):.3f}")]
    return []


def apply_to_bodies(ev: Event, bodies: dict[str, Body], earlier: dict[str, str] | None = None, *,
                    boxes: bool = True) -> None:
    """Track which ids exist, which are held, what they weigh and (with `boxes`) where spawns are, as
    events apply at one instant; `earlier` records what happened to each id."""
    if ev.type == "spawn":
        bodies[ev.entity.id] = spec_body(ev.entity, with_box=boxes)
        if earlier is not None:
            earlier[ev.entity.id] = "spawned"
    elif ev.type == "remove":
        del bodies[ev.entity]
        if earlier is not None:
            earlier[ev.entity] = "removed"
    elif ev.type == "set_property" and ev.entity != GROUND_ID:
        body = bodies[ev.entity]
        if ev.fixed is not None:
            body.fixed = ev.fixed
        if ev.mass is not None:
            body.mass = ev.mass
        elif ev.material is not None:
            body.mass = material_mass(ev.material, body.volume)
    elif ev.type == "place":
        body = bodies[ev.entity]
        body.quat = upright(body.quat)
        body.box = bounding_box(body.shape, body.size, ev.position, body.quat) if body.box is not None else None


def schema_problems(exc: ValidationError, base: Path, tags: Sequence[str] = ()) -> list[Problem]:
    """Problems from a pydantic error on an event (or a plan) at `base`: by the error's type, or the
    code of the :class:`LimitError` a validator raised; the message is pydantic's or ours. `tags`: the
    discriminator values (event types) pydantic puts in the location, left out of the path."""
    out = []
    for err in exc.errors(include_url=False)[:6]:
        loc = tuple(p for p in err["loc"] if p not in tags and not str(p).startswith("function-"))
        path = (*base, *loc)
        cause = (err.get("ctx") or {}).get("error")
        code = cause.code if isinstance(cause, LimitError) else _PYDANTIC_CODES.get(err["type"], "schema")
        msg = str(cause) if isinstance(cause, LimitError) else err["msg"]
        if code == "unknown_event_type":
            msg = f"event type must be one of {', '.join(tags)}"
        out.append(Problem(code=code, path=path, value=json_safe(err.get("input")), message=f"{path_text(path)}: {msg}"))
    return out


def json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded copy of an offending value."""
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**53):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value[:200]
    if depth < 3 and isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value[:8]]
    if depth < 3 and isinstance(value, dict):
        return {str(k)[:40]: json_safe(v, depth + 1) for k, v in list(value.items())[:8]}
    return repr(value)[:200]
