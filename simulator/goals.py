"""Goals: typed, checkable predicates over a sequence of world states (an imagined or a played turn).

:func:`check` returns a :class:`Verdict` whose ``margin`` is signed (positive when the goal holds,
negative when not) and in metres where it can be (radians for tilts, m/s for speeds), so that it
grows steadily with the strength of a push: the cerebellum bisects an impulse's magnitude on it.
``states[0]`` is the start (right after the turn's events applied); most goals judge the last state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.bounds import Box, entity_box, local_half_extents, rotation
from simulator.limits import LIMITS
from simulator.scene import GROUND_ID
from simulator.state import EntityState, WorldState

MISSING_MARGIN = -LIMITS.world_extent
"""The margin of a goal about a body that is not in the states (removed, or never there)."""
CONTACT_GAP = 0.005
"""Surfaces closer than this (m) touch (a Reaches goal)."""
ON_GAP = 0.02
"""A body rests on a support when its bottom lies within this (m) of the support's top."""
TOPPLE_TILT = math.pi / 4
"""A body tilted more than this (rad) from how it started has toppled."""


class GoalModel(BaseModel):
    """Base of every goal: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _unit(v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
    if v is None:
        return None
    n = math.sqrt(sum(x * x for x in v))
    if not math.isfinite(n) or n < 1e-9:
        raise ValueError(f"direction {list(v)} must be a finite, non-zero vector (it is normalised)")
    return (v[0] / n, v[1] / n, v[2] / n)


def _horizontal(v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
    if v is None:
        return None
    if not all(math.isfinite(x) for x in v) or math.hypot(v[0], v[1]) < 1e-9:
        raise ValueError(f"side {list(v)} must point sideways (a non-zero x or y); it names an edge")
    return _unit((v[0], v[1], 0.0))


Distance = Annotated[float, Field(ge=0, le=2 * LIMITS.world_extent, allow_inf_nan=False)]
Direction = tuple[float, float, float]


class Moves(GoalModel):
    """Every target ends between `min_distance` and `max_distance` from where it started (measured
    along `direction` when given, and then mostly that way)."""

    kind: Literal["moves"] = "moves"
    """Goal kind."""
    targets: list[str] = Field(min_length=1)
    """Ids of the bodies that must move."""
    direction: Direction | None = None
    """World direction of travel (normalised); None: any direction."""
    min_distance: Distance = 0.05
    """Least distance travelled (m)."""
    max_distance: Distance | None = None
    """Most distance travelled (m); None: no upper bound."""

    _check_direction = field_validator("direction")(lambda v: _unit(v))


class EndsOn(GoalModel):
    """The target ends resting on top of the support (its centre over the support's top face)."""

    kind: Literal["ends_on"] = "ends_on"
    """Goal kind."""
    target: str
    """Id of the body that must end on top."""
    support: str
    """Id of the body (or 'ground') it must end on."""


class EndsOff(GoalModel):
    """The target ends off the support: its centre beyond the support's footprint (beyond the edge
    facing `side`, when given)."""

    kind: Literal["ends_off"] = "ends_off"
    """Goal kind."""
    target: str
    """Id of the body that must leave the support."""
    support: str
    """Id of the body it must end off."""
    side: Direction | None = None
    """World direction of the edge it must leave by (made horizontal and normalised); None: any edge."""

    _check_side = field_validator("side")(lambda v: _horizontal(v))


class EndsNear(GoalModel):
    """The target ends within `max_gap` of the other body (surface to surface)."""

    kind: Literal["ends_near"] = "ends_near"
    """Goal kind."""
    target: str
    """Id of the body that must end near."""
    other: str
    """Id of the body (or 'ground') it must end near."""
    max_gap: Distance = 0.1
    """Largest surface gap (m)."""


class EndsIn(GoalModel):
    """The target's centre ends inside the container's bounds (over its footprint, below its rim)."""

    kind: Literal["ends_in"] = "ends_in"
    """Goal kind."""
    target: str
    """Id of the body that must end inside."""
    container: str
    """Id of the container."""


class Reaches(GoalModel):
    """The target touches the other body at some frame."""

    kind: Literal["reaches"] = "reaches"
    """Goal kind."""
    target: str
    """Id of the moving body."""
    other: str
    """Id of the body (or 'ground') it must touch."""


class Topples(GoalModel):
    """The targets end tilted more than 45° or fallen below where they stood."""

    kind: Literal["topples"] = "topples"
    """Goal kind."""
    targets: list[str] = Field(min_length=1)
    """Ids of the bodies that must topple."""
    at_least: int | None = Field(default=None, ge=1)
    """How many of the targets must topple; None: all of them."""


class Airborne(GoalModel):
    """The target's bottom rises at least `min_height` above where it started, at some frame."""

    kind: Literal["airborne"] = "airborne"
    """Goal kind."""
    target: str
    """Id of the body that must leave the ground."""
    min_height: Distance = 0.05
    """Least rise (m)."""


class Unchanged(GoalModel):
    """The targets never move more than `tolerance` from where they started."""

    kind: Literal["unchanged"] = "unchanged"
    """Goal kind."""
    targets: list[str] = Field(min_length=1)
    """Ids of the bodies that must stay put."""
    tolerance: Distance = 0.01
    """Largest displacement (m) at any frame."""


class AtRest(GoalModel):
    """The targets end at rest (speed and spin below the rest thresholds of the limits)."""

    kind: Literal["at_rest"] = "at_rest"
    """Goal kind."""
    targets: list[str] = Field(min_length=1)
    """Ids of the bodies that must end still."""


Goal = Annotated[
    Union[Moves, EndsOn, EndsOff, EndsNear, EndsIn, Reaches, Topples, Airborne, Unchanged, AtRest],
    Field(discriminator="kind"),
]


class Verdict(BaseModel):
    """Whether a goal holds over some states, and by how much."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    """True when the goal holds (then margin >= 0)."""
    margin: float
    """Signed slack: positive when satisfied, negative when not (m, rad or m/s; see the goal)."""
    code: str
    """'ok' or why not, e.g. 'too_short', 'not_on', 'no_contact', 'missing'."""


def check(goal: Goal, states: Sequence[WorldState]) -> Verdict:
    """Judge `goal` over `states` (the first is the start)."""
    if not states:
        raise ValueError("states: a goal is checked over at least one state")
    return _CHECKS[goal.kind](goal, states)


# ---- geometry ------------------------------------------------------------------------------------


def _sub(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(a: Sequence[float]) -> float:
    return math.sqrt(_dot(a, a))


def _inset(point: Sequence[float], box: Box) -> float:
    """How far `point` lies inside the box's xy footprint (negative: outside by that much)."""
    inside = min(point[0] - box.lo[0], box.hi[0] - point[0], point[1] - box.lo[1], box.hi[1] - point[1])
    if inside >= 0:
        return inside
    dx = max(box.lo[0] - point[0], 0.0, point[0] - box.hi[0])
    dy = max(box.lo[1] - point[1], 0.0, point[1] - box.hi[1])
    return -math.hypot(dx, dy)


def _point_gap(p: Sequence[float], e: EntityState) -> float:
    """Distance from point `p` to the surface of `e`'s oriented box hull (sphere exactly)."""
    if e.shape == "sphere":
        return _norm(_sub(p, e.position)) - e.size[0]
    rot = rotation(e.orientation)
    d = _sub(p, e.position)
    local = [sum(rot[i][j] * d[i] for i in range(3)) for j in range(3)]
    half = local_half_extents(e.shape, e.size)
    out = [max(abs(local[j]) - half[j], 0.0) for j in range(3)]
    outside = _norm(out)
    return outside if outside > 0 else max(abs(local[j]) - half[j] for j in range(3))


def _gap(state: WorldState, target: str, other: str) -> float:
    """Surface gap between a body and another body or the floor ('ground') in one state."""
    a = state.entities[target]
    if other == GROUND_ID:
        return entity_box(a).lo[2]
    return surface_gap(a, state.entities[other])


def surface_gap(a: EntityState, b: EntityState) -> float:
    """The gap between two bodies' surfaces (m): exact for spheres against spheres and boxes, the
    bounding boxes' gap otherwise."""
    if a.shape == "sphere":
        return _point_gap(a.position, b) - a.size[0]
    if b.shape == "sphere":
        return _point_gap(b.position, a) - b.size[0]
    return entity_box(a).gap(entity_box(b))


def tilt(start: EntityState, end: EntityState) -> float:
    """The angle (rad) between the body's up axis at `start` and at `end`."""
    up0, up1 = rotation(start.orientation), rotation(end.orientation)
    c = sum(up0[i][2] * up1[i][2] for i in range(3))
    return math.acos(max(-1.0, min(1.0, c)))


# ---- the checks ----------------------------------------------------------------------------------


def _verdict(margin: float, code_if_not: str) -> Verdict:
    margin = round(float(margin), 6) + 0.0
    return Verdict(ok=margin >= 0, margin=margin, code="ok" if margin >= 0 else code_if_not)


def _missing(states: Sequence[WorldState], *ids: str) -> Verdict | None:
    for eid in ids:
        if eid == GROUND_ID:
            continue
        if eid not in states[0].entities or eid not in states[-1].entities:
            return Verdict(ok=False, margin=MISSING_MARGIN, code="missing")
    return None


def _travel(goal: Moves, start: EntityState, end: EntityState) -> tuple[float, str]:
    d = _sub(end.position, start.position)
    if goal.direction is None:
        along, off = _norm(d), 0.0
    else:
        along = _dot(d, goal.direction)
        rest = _sub(d, tuple(along * c for c in goal.direction))
        off = math.hypot(rest[0], rest[1]) if abs(goal.direction[2]) < 0.5 else _norm(rest)
    worst = [(along - goal.min_distance, "too_short"), (along - off, "off_direction")]
    if goal.max_distance is not None:
        worst.append((goal.max_distance - along, "too_far"))
    return min(worst)


def _moves(goal: Moves, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, *goal.targets)
    if missing:
        return missing
    margin, code = min(_travel(goal, states[0].entities[t], states[-1].entities[t]) for t in goal.targets)
    return _verdict(margin, code)


def _ends_on(goal: EndsOn, states: Sequence[WorldState]) -> Verdict:
    if goal.support == "ground":
        missing = _missing(states, goal.target)
        if missing:
            return missing
        bottom = entity_box(states[-1].entities[goal.target]).lo[2]
        return _verdict(ON_GAP - bottom, "not_on")
    missing = _missing(states, goal.target, goal.support)
    if missing:
        return missing
    target, support = states[-1].entities[goal.target], states[-1].entities[goal.support]
    t_box, s_box = entity_box(target), entity_box(support)
    vertical = ON_GAP - abs(t_box.lo[2] - s_box.hi[2])
    above = target.position[2] - s_box.hi[2]
    return _verdict(min(_inset(target.position, s_box), vertical, above), "not_on")


def _ends_off(goal: EndsOff, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, goal.target, goal.support)
    if missing:
        return missing
    target, support = states[-1].entities[goal.target], states[-1].entities[goal.support]
    s_box = entity_box(support)
    if goal.side is None:
        return _verdict(-_inset(target.position, s_box), "not_off")
    side = goal.side
    centre = [(s_box.lo[i] + s_box.hi[i]) / 2 for i in range(3)]
    reach = sum(abs(side[i]) * (s_box.hi[i] - s_box.lo[i]) / 2 for i in range(2))
    beyond = _dot(_sub(target.position, centre), side) - reach
    return _verdict(beyond, "not_off")


def _ends_near(goal: EndsNear, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, goal.target, goal.other)
    if missing:
        return missing
    return _verdict(goal.max_gap - _gap(states[-1], goal.target, goal.other), "too_far")


def _ends_in(goal: EndsIn, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, goal.target, goal.container)
    if missing:
        return missing
    target, box = states[-1].entities[goal.target], entity_box(states[-1].entities[goal.container])
    below_rim = box.hi[2] - target.position[2]
    above_floor = target.position[2] - box.lo[2]
    return _verdict(min(_inset(target.position, box), below_rim, above_floor), "not_in")


def _reaches(goal: Reaches, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, goal.target, goal.other)
    if missing:
        return missing
    gaps = [_gap(s, goal.target, goal.other) for s in states
            if goal.target in s.entities and (goal.other in s.entities or goal.other == GROUND_ID)]
    return _verdict(CONTACT_GAP - min(gaps), "no_contact")


def _toppled(start: EntityState, end: EntityState) -> float:
    half_height = entity_box(start).hi[2] - start.position[2]
    fell = (start.position[2] - end.position[2]) - half_height
    return max(tilt(start, end) - TOPPLE_TILT, fell)


def _topples(goal: Topples, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, *goal.targets)
    if missing:
        return missing
    margins = sorted((_toppled(states[0].entities[t], states[-1].entities[t]) for t in goal.targets), reverse=True)
    need = len(margins) if goal.at_least is None else min(goal.at_least, len(margins))
    return _verdict(margins[need - 1], "still_standing")


def _airborne(goal: Airborne, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, goal.target)
    if missing:
        return missing
    ground = entity_box(states[0].entities[goal.target]).lo[2]
    rise = max(entity_box(s.entities[goal.target]).lo[2] for s in states if goal.target in s.entities) - ground
    return _verdict(rise - goal.min_height, "grounded")


def _unchanged(goal: Unchanged, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, *goal.targets)
    if missing:
        return missing
    worst = max(_norm(_sub(s.entities[t].position, states[0].entities[t].position))
                for s in states for t in goal.targets if t in s.entities)
    return _verdict(goal.tolerance - worst, "changed")


def _at_rest(goal: AtRest, states: Sequence[WorldState]) -> Verdict:
    missing = _missing(states, *goal.targets)
    if missing:
        return missing
    end = states[-1].entities
    margin = min(min(LIMITS.rest_speed - _norm(end[t].velocity),
                     (LIMITS.rest_spin - _norm(end[t].angular_velocity)) * 0.1) for t in goal.targets)
    return _verdict(margin, "moving")


_CHECKS = {
    "moves": _moves, "ends_on": _ends_on, "ends_off": _ends_off, "ends_near": _ends_near, "ends_in": _ends_in,
    "reaches": _reaches, "topples": _topples, "airborne": _airborne, "unchanged": _unchanged, "at_rest": _at_rest,
}
