"""The outcome bench's judge: predicates over simulated states, written apart from the planner.

A case's ``expect`` is a mapping of check names to arguments; every check must hold. The checks
look at the states the real MuJoCo world went through (``frames``), the state before the plan,
the state a run *without* the plan reaches (``baseline``: so a body that falls anyway is not
credited to the plan), the committed narration and the planned events. They use the scene camera
for screen words, computed here independently of the planner (as bench/intent_bench.py does).

The same checks tell a *harmful misread*: an event that acts on a body no check names (nor the
case's ``may`` list), or an event kind no check asks for (a mass change for a superlative, a
release of the table for "clear the table"). Refusal and question cases allow no event at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.bounds import entity_box
from simulator.state import EntityState, WorldState

MOVED, STILL = 0.05, 0.02
REFUSAL = re.compile(r"\b(?:could not|couldn't|cannot|can't|not sure|did not understand|didn't understand|"
                     r"do not understand|don't understand|don't know|do not know|which one|which|unclear|"
                     r"not understood|no verb|there is no|no such|did not recognise|didn't recognise|only english)\b")
NAMED = {  # a colour name -> a test on (r, g, b), independent of the planner's palette
    "red": lambda r, g, b: r >= g + 40 and r >= b + 40, "green": lambda r, g, b: g >= r + 25 and g >= b + 25,
    "blue": lambda r, g, b: b >= r + 40 and b >= g + 20, "yellow": lambda r, g, b: r > 150 and g > 150 and b < 120,
    "white": lambda r, g, b: min(r, g, b) > 200, "black": lambda r, g, b: max(r, g, b) < 70,
    "orange": lambda r, g, b: r > 200 and 80 <= g <= 190 and b < 90,
    "purple": lambda r, g, b: r > 80 and b > 100 and g < r - 30, "pink": lambda r, g, b: r > 200 and b > 120 and g < r - 40,
    "grey": lambda r, g, b: max(r, g, b) - min(r, g, b) < 30 and 70 <= r <= 200,
    "brown": lambda r, g, b: r > g > b and r - b > 50 and r < 200,
}
MOTION_KEYS = {"moved", "dir", "dirs", "on", "in", "near", "off", "touch", "topple", "max_move", "min_move", "home"}


@dataclass
class Run:
    """What happened in one case."""

    before: WorldState
    frames: Sequence[WorldState]
    baseline: Sequence[WorldState]
    narration: str
    events: list[dict[str, Any]]
    camera: Any
    initial: WorldState | None = None
    """The scene's state before the case's setup (where bodies were "before")."""
    moved: tuple[str, ...] = ()
    """The bodies the case's `moved` check names (what `dir` judges)."""

    @property
    def after(self) -> WorldState:
        return self.frames[-1]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def axes(camera) -> dict[str, tuple[float, float, float]]:
    fx, fy = camera.look_at[0] - camera.position[0], camera.look_at[1] - camera.position[1]
    n = math.hypot(fx, fy) or 1.0
    right, away = (fy / n, -fx / n, 0.0), (fx / n, fy / n, 0.0)
    return {"right": right, "left": tuple(-x for x in right), "away": away, "toward": tuple(-x for x in away),
            "up": (0.0, 0.0, 1.0), "down": (0.0, 0.0, -1.0)}


def peak(run: Run, eid: str, frames=None) -> float:
    b = run.before.entities[eid].position
    return max([0.0] + [math.dist(f.entities[eid].position, b) for f in (frames or run.frames) if eid in f.entities])


def displacement(run: Run, eid: str) -> tuple[float, ...]:
    """The body's largest excursion from where it started (a push that bounces back still went its way)."""
    b = run.before.entities[eid].position
    a = max((f.entities[eid].position for f in run.frames if eid in f.entities), key=lambda p: math.dist(p, b))
    return tuple(a[k] - b[k] for k in range(3))


def tilt(e: EntityState) -> float:
    """Angle (deg) between the body's up axis and world up."""
    w, x, y, z = e.orientation
    return math.degrees(math.acos(max(-1.0, min(1.0, 1 - 2 * (x * x + y * y)))))


def rests_on(x: EntityState, y: EntityState) -> bool:
    bx, by = entity_box(x), entity_box(y)
    over = all(by.lo[k] - 0.01 <= (bx.lo[k] + bx.hi[k]) / 2 <= by.hi[k] + 0.01 for k in (0, 1))
    return over and abs(bx.lo[2] - by.hi[2]) < 0.04


def members(state: WorldState, family: str) -> list[str]:
    return [i for i in state.entities if i == family or i.startswith(family + "-")]


def inside(x: EntityState, state: WorldState, family: str) -> bool:
    boxes = [entity_box(state.entities[i]) for i in members(state, family)]
    if not boxes:
        return False
    lo = [min(b.lo[k] for b in boxes) for k in range(3)]
    hi = [max(b.hi[k] for b in boxes) for k in range(3)]
    c = x.position
    return all(lo[k] <= c[k] <= hi[k] for k in (0, 1)) and lo[2] <= c[2] <= hi[2] + 0.05


def unchanged(run: Run) -> bool:
    a, b = run.after, run.baseline[-1]
    if set(a.entities) != set(b.entities):
        return False
    for i, e in a.entities.items():
        o = b.entities[i]
        if math.dist(e.position, o.position) > STILL or e.color != o.color or abs(e.mass - o.mass) > 1e-9 \
                or e.fixed != o.fixed:
            return False
    return True


def check(name: str, arg: Any, run: Run) -> bool:
    return _CHECKS[name](arg, run)


def _moved(ids, run):
    return all(i in run.after.entities and peak(run, i) - peak(run, i, run.baseline) >= MOVED for i in ids)


def _dir(word, run):
    ids = [i for i in run.moved if i in run.after.entities]
    d = axes(run.camera)[word]
    if word == "up":
        return all(max(f.entities[i].position[2] for f in run.frames) - run.before.entities[i].position[2] > MOVED
                   for i in ids)
    return bool(ids) and all(sum(a * b for a, b in zip(displacement(run, i), d)) > 0.03 for i in ids)


def _dirs(mapping, run):
    ax = axes(run.camera)
    return all(i in run.after.entities and sum(a * b for a, b in zip(displacement(run, i), ax[w])) > 0.03
               for i, w in mapping.items())


def _home(ids, run):
    start = run.initial or run.before
    return all(math.dist(run.after.entities[i].position, start.entities[i].position) < 0.06 for i in ids)


def _still(ids, run):
    return all(i in run.after.entities and math.dist(run.after.entities[i].position,
                                                     run.baseline[-1].entities[i].position) < STILL for i in ids)


def _colour(mapping, run):
    return all(i in run.after.entities and NAMED[c](*rgb(run.after.entities[i].color)) for i, c in mapping.items())


def _same_colour(pairs, run):
    return all(run.after.entities[x].color == run.after.entities[y].color for x, y in pairs)


def _new(spec, run):
    new = [i for i in run.after.entities if i not in run.before.entities]
    if len(new) != spec.get("count", 1):
        return False
    for i in new:
        e = run.after.entities[i]
        if "shape" in spec and e.shape != spec["shape"]:
            return False
        if "colour" in spec and not NAMED[spec["colour"]](*rgb(e.color)):
            return False
        if "on" in spec and not (e.position[2] < 0.3 if spec["on"] == "floor" else rests_on(e, run.after.entities[spec["on"]])):
            return False
        if "in" in spec and not inside(e, run.after, spec["in"]):
            return False
        if "near" in spec and entity_box(e).gap(entity_box(run.after.entities[spec["near"]])) > spec.get("gap", 0.15):
            return False
        if "max_size" in spec and max(entity_box(e).hi[k] - entity_box(e).lo[k] for k in range(3)) > spec["max_size"]:
            return False
    return True


def _touch(pairs, run):
    def gap(f, x, y):
        return entity_box(f.entities[x]).gap(entity_box(f.entities[y]))
    return all(min(gap(f, x, y) for f in run.frames if x in f.entities and y in f.entities) < 0.01 for x, y in pairs)


def _topple(ids, run):
    def fell(i):
        b, a = run.before.entities[i], run.after.entities.get(i)
        return a is not None and (tilt(a) > 45 or b.position[2] - a.position[2] > 0.05)
    return sum(fell(i) for i in ids) >= max(1, math.ceil(len(ids) / 2))


def _off(pairs, run):
    return all(not rests_on(run.after.entities[x], run.after.entities[y])
               and run.after.entities[x].position[2] < entity_box(run.after.entities[y]).hi[2] for x, y in pairs)


def _answer(words, run):
    text = run.narration.lower()
    return all(any(re.search(rf"\b{re.escape(w)}\b", text) for w in alt.split("|")) for alt in words)


_CHECKS = {
    "moved": _moved, "dir": _dir, "still": _still, "colour": _colour, "same_colour": _same_colour, "new": _new,
    "touch": _touch, "topple": _topple, "off": _off, "answer": _answer,
    "unchanged": lambda arg, run: unchanged(run) == bool(arg),
    "refuse": lambda arg, run: unchanged(run) and bool(REFUSAL.search(run.narration.lower())),
    "removed": lambda ids, run: all(i not in run.after.entities for i in ids),
    "heavier": lambda ids, run: all(run.after.entities[i].mass > run.before.entities[i].mass * 1.2 for i in ids),
    "lighter": lambda ids, run: all(run.after.entities[i].mass < run.before.entities[i].mass / 1.2 for i in ids),
    "released": lambda ids, run: all(i in run.after.entities and not run.after.entities[i].fixed for i in ids),
    "on": lambda pairs, run: all(rests_on(run.after.entities[x], run.after.entities[y]) for x, y in pairs),
    "in": lambda pairs, run: all(inside(run.after.entities[x], run.after, f) for x, f in pairs),
    "near": lambda pairs, run: all(entity_box(run.after.entities[x]).gap(entity_box(run.after.entities[y])) <= g
                                   for x, y, g in pairs),
    "dirs": _dirs, "home": _home,
    "min_move": lambda m, run: all(peak(run, i) >= d for i, d in m.items()),
    "max_move": lambda m, run: all(peak(run, i) <= d for i, d in m.items()),
    "may": lambda ids, run: True,
}


# ---- harmful misreads ----------------------------------------------------------------------------


def allowed(expect: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(bodies the events may act on, event kinds and property fields they may use)."""
    ids: set[str] = set(expect.get("may", []))
    kinds: set[str] = set()
    for key, arg in expect.items():
        if key in ("moved", "removed", "heavier", "lighter", "released", "topple"):
            ids |= set(arg)
        elif key in ("on", "in", "near", "off", "touch", "same_colour"):
            ids |= {p[0] for p in arg}
        elif key in ("colour", "max_move", "min_move", "dirs", "home"):
            ids |= set(arg)
        if key in MOTION_KEYS:
            kinds |= {"apply_impulse", "apply_force", "set_velocity", "place", "set_property.fixed",
                      "set_property.description"}
        kinds |= {"colour": {"set_property.color", "set_property.description"},
                  "same_colour": {"set_property.color"},
                  "heavier": {"set_property.mass"}, "lighter": {"set_property.mass"}, "removed": {"remove"},
                  "released": {"set_property.fixed"}, "new": {"spawn", "place"}}.get(key, set())
    for extra in expect.get("may_kinds", []):
        kinds.add(extra)
    return ids, kinds


def harm(expect: dict[str, Any], run: Run) -> list[str]:
    """Why the planned events are a harmful misread (empty: none)."""
    ids, kinds = allowed(expect)
    out = []
    for ev in run.events:
        kind = ev["type"]
        body = ev["entity"]["id"] if kind == "spawn" else ev.get("entity")
        if kind == "spawn":
            if "spawn" not in kinds:
                out.append(f"spawned {body} unasked")
            continue
        fields = [f"set_property.{k}" for k, v in ev.items() if kind == "set_property" and k not in ("type", "entity")
                  and v is not None] or [kind]
        for f in fields:
            if f not in kinds:
                out.append(f"{f} on {body}: a verb not asked")
        if body not in ids and body in run.before.entities:
            out.append(f"{kind} on {body}: a body nobody named")
    return out
