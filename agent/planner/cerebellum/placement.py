"""Placement: "put X on Y", "into Y", "next to Y" carry an existing body there with the `place` event.

:func:`placement_from_words` recognises a carrying verb (put, place, set, move, carry, lay, stand)
acting on a body that is already there, with where it goes: on/onto/on top of a body, in/into a
container (a body or a family of parts, like a bin's bottom and walls), next to/beside a body.
:func:`carry` picks free spots there, imagines the lift-carry-lower motion and keeps the first spot
whose imagined outcome rests where asked (``EndsOn``, inside the container, ``EndsNear``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import simulator.scene as scene_module
from agent.planner.cerebellum.acted import Acted
from agent.planner.cerebellum.imagination import Imagination
from agent.planner.words.lexicon import normalised
from agent.planner.words.program import Reading, Step
from simulator import goals as G
from simulator.bounds import Box, entity_box
from simulator.limits import LIMITS
from simulator.state import WorldState

_CARRY = re.compile(r"\b(?:put\w*|place\w*|set|sets|move\w*|carr\w*|lay|lays|laid|stand|stands|stack\w*|bring\w*|"
                    r"take\w*)\b")
_INTO = re.compile(r"\b(?:into|in|inside)\b")
GAP = 0.002
"""How far above its support a placed body is lowered (m)."""
SIDE_GAP = 0.03
"""Gap between a body placed next to another and that body (m)."""


MODEL_GOALS: tuple[str, ...] = (G.EndsOn.model_fields["kind"].default, G.EndsIn.model_fields["kind"].default,
                                G.EndsNear.model_fields["kind"].default)
"""Goal kinds a program step may name that are placements: on, in, next to its `place`."""
_SPOT_KIND = dict(zip(MODEL_GOALS, ("on", "in", "near")))


@dataclass
class Spot:
    """Where a body is to go."""

    target: str
    kind: str
    """on, in or near."""
    others: list[str]
    """The support, the container's parts, or the body to stand next to."""


def placement_from_words(state: WorldState, r: Reading) -> Spot | None:
    """A carrying verb on an existing body with a destination, else None."""
    g = r.grounding
    text = normalised(r.text)
    if g is None or not _CARRY.search(text) or g.target is None or g.new is not None:
        return None
    target = g.target
    for p in g.phrases:
        if not p.ids or p.kind not in ("entity", "group") or target in p.ids or p.relation is None:
            continue
        words = text.split()
        if p.relation in ("aim", "support") and _INTO.search(" ".join(words[max(0, p.start - 2):p.start + 1])):
            return Spot(target, "in", list(p.ids))
        if p.relation == "support":
            return Spot(target, "on", [p.ids[0]])
        if p.relation == "near":
            return Spot(target, "near", [p.ids[0]])
    floor = next((p for p in g.phrases if p.kind == "floor" and p.relation == "support"), None)
    return Spot(target, "floor", []) if floor is not None else None


def placement_from_goal(state: WorldState, r: Reading) -> Spot | None:
    """A placement goal a model's program step names (ends_on/in/near its `place`), else None."""
    if r.goal not in _SPOT_KIND or r.intent is None or not r.targets or r.intent.place not in state.entities:
        return None
    if r.intent.place in r.targets or state.entities[r.targets[0]].fixed:
        return None
    return Spot(r.targets[0], _SPOT_KIND[r.goal], [r.intent.place])


def _union(state: WorldState, ids: list[str]) -> Box:
    boxes = [entity_box(state.entities[i]) for i in ids]
    return Box(tuple(min(b.lo[k] for b in boxes) for k in range(3)), tuple(max(b.hi[k] for b in boxes) for k in range(3)))


def candidates(state: WorldState, spot: Spot) -> list[tuple[float, float, float]]:
    """Centre positions to try, best first."""
    me = state.entities[spot.target]
    mb = entity_box(me)
    half = [(mb.hi[k] - mb.lo[k]) / 2 for k in range(3)]
    if spot.kind == "on":
        b = entity_box(state.entities[spot.others[0]])
        c = [(b.lo[k] + b.hi[k]) / 2 for k in (0, 1)]
        return [(c[0], c[1], b.hi[2] + half[2] + GAP)]
    if spot.kind == "in":
        b = _union(state, spot.others)
        floor = max(entity_box(state.entities[i]).hi[2] for i in spot.others
                    if entity_box(state.entities[i]).hi[2] < b.lo[2] + 0.5 * (b.hi[2] - b.lo[2])) \
            if any(entity_box(state.entities[i]).hi[2] < b.lo[2] + 0.5 * (b.hi[2] - b.lo[2]) for i in spot.others) \
            else b.lo[2]
        c = [(b.lo[k] + b.hi[k]) / 2 for k in (0, 1)]
        return [(c[0], c[1], floor + half[2] + GAP)]
    if spot.kind == "floor":
        p = me.position
        return [(p[0] + dx, p[1] + dy, half[2] + GAP) for dx, dy in ((0, -0.0), (0.3, 0), (-0.3, 0))]
    other = state.entities[spot.others[0]]
    ob = entity_box(other)
    out = []
    reach = [(ob.hi[0] - ob.lo[0]) / 2 + half[0] + SIDE_GAP, (ob.hi[1] - ob.lo[1]) / 2 + half[1] + SIDE_GAP]
    here = me.position
    for k in range(8):
        a = k * math.pi / 4
        x, y = other.position[0] + reach[0] * math.cos(a) * 1.0, other.position[1] + reach[1] * math.sin(a)
        out.append((x, y, ob.lo[2] + half[2] + GAP))
    out.sort(key=lambda q: math.dist(q[:2], here[:2]))
    return out


def goal_for(state: WorldState, spot: Spot):
    if spot.kind == "on":
        return G.EndsOn(target=spot.target, support=spot.others[0])
    if spot.kind == "near":
        return G.EndsNear(target=spot.target, other=spot.others[0], max_gap=0.1)
    return None


def _inside(state: WorldState, spot: Spot, final: WorldState) -> bool:
    b = _union(state, spot.others)
    c = final.entities[spot.target].position
    return all(b.lo[k] <= c[k] <= b.hi[k] for k in (0, 1)) and c[2] <= b.hi[2] + 0.05


DEFAULT_LIFT = 0.1
"""The place event's own lift (m), the least a carry rises."""
CLEARANCE = 0.03
"""How far (m) a carried body passes above the tops of the things under its path."""
BYSTANDER_SHIFT = 0.02
"""A placement may move a body nobody named by at most this much (m) in its imagined outcome."""


def clearance_lift(state: WorldState, target: str, end) -> float:
    """How high to lift `target` so that, carried straight to `end`, it passes above everything under
    its path (the xy rectangle its start and end span, widened by its own half extents)."""
    box = entity_box(state.entities[target])
    half = [(box.hi[k] - box.lo[k]) / 2 for k in range(3)]
    start = state.entities[target].position
    lo = [min(start[k], end[k]) - half[k] for k in (0, 1)]
    hi = [max(start[k], end[k]) + half[k] for k in (0, 1)]
    tops = [b.hi[2] for i, e in state.entities.items() if i != target
            for b in [entity_box(e)] if all(b.lo[k] < hi[k] and lo[k] < b.hi[k] for k in (0, 1))]
    need = max(tops, default=0.0) + half[2] + CLEARANCE - max(start[2], end[2])
    return round(min(max(DEFAULT_LIFT, need), LIMITS.max_place_lift), 4)


def carry(state: WorldState, r: Reading, spot: Spot, imagination: Imagination):
    """The place event for the first spot whose imagined outcome holds, or nothing (and why)."""
    place = getattr(scene_module, "PlaceEvent", None)
    name = spot.target.replace("-", " ")
    if place is None:
        return Acted([], f"Nothing happens: I cannot carry the {name} yet (the simulator has no place event).",
                     Step(text=r.text, verb="place", targets=[spot.target], verdict="no place event"), [])
    goal = goal_for(state, spot)
    bystanders = [i for i, e in state.entities.items()
                  if i != spot.target and i not in spot.others and not e.fixed]
    still = G.Unchanged(targets=bystanders, tolerance=BYSTANDER_SHIFT) if bystanders else None
    tried = []
    for pos in candidates(state, spot)[:6]:
        events = [place(type="place", entity=spot.target, position=tuple(round(x, 4) for x in pos),
                        lift=clearance_lift(state, spot.target, pos))]
        states = imagination.run(events)
        ok = len(states) > 1 and (G.check(goal, states).ok if goal is not None else
                                  _inside(state, spot, states[-1]) if spot.kind == "in" else True)
        ok = ok and (still is None or G.check(still, states).ok)  # carrying it knocks nothing nobody named
        tried.append({"position": [round(x, 3) for x in pos], "ok": ok})
        if ok:
            where = {"on": "onto", "in": "into", "near": "next to", "floor": "down onto the floor"}[spot.kind]
            other = f" the {spot.others[0].split('-')[0]}" if spot.others else ""
            step = Step(text=r.text, verb="place", targets=[spot.target],
                        goal={"kind": spot.kind, "others": spot.others, "tried": tried}, verdict="ok")
            return Acted(events, f"The {name} is carried {where}{other}.", step, [])
    step = Step(text=r.text, verb="place", targets=[spot.target], goal={"kind": spot.kind, "tried": tried},
                verdict="no spot held")
    why = "would not stay there" if not bystanders else "would not stay there without knocking other things"
    return Acted([], f"Nothing happens: imagined, the {name} {why}.", step, [])
