"""The physics compiler: ``(world state, camera, intent) -> events``. Pure; the cerebellum.

The intent says what happens; this module decides how much:

- pushes are impulses of mass x speed, with a speed per strength; a held (fixed) body is
  released first, since a held body cannot move;
- directions are camera-relative: "left" is left on screen, "toward" comes at the viewer;
  "forward" runs along the row a body stands in, "off" toward the nearest edge of its support,
  "along" down the long side of a named body, "at" toward a named body;
- spawns sit on (or, when dropped, above) their support at the free spot nearest where they
  were asked for, overlapping nothing; thrown spawns fly on a ballistic arc at their target;
- colours come by name, masses by factor.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from agent.knowledge.catalogue import lookup as catalogue_lookup
from agent.planner.words.camera import ScreenAxes, screen_axes, unit
from agent.planner.words.intent import COLOURS, MAX_SPAWN_COUNT, Intent
from agent.planner.words.lexicon import (
    MATERIALS,
    SIZE_WORDS,
    SPAWN_NOUNS,
    singular,
    tokens,
)
from simulator.bounds import Box, bounding_box, entity_box, local_half_extents, volume
from simulator.limits import default_mass
from simulator.scene import (
    ApplyImpulseEvent,
    CameraSpec,
    EntitySpec,
    Event,
    RemoveEvent,
    SetPropertyEvent,
    SetVelocityEvent,
    SpawnEvent,
)
from simulator.state import EntityState, WorldState

PUSH_SPEED = {"gentle": 0.8, "normal": 2.0, "hard": 4.5}
"""Speed (m/s) a push gives, by strength."""
TOSS_SPEED = {"gentle": 1.8, "normal": 2.8, "hard": 4.2}
"""Upward speed (m/s) of a toss, by strength (peaks at about 0.17, 0.4 and 0.9 m)."""
THROW_SPEED = {"gentle": 2.5, "normal": 4.5, "hard": 7.0}
"""Horizontal speed (m/s) of a thrown new body, by strength."""
DEFAULT_FACTOR = 3.0
"""Mass factor for heavier/lighter when the action gives none."""
DROP_HEIGHT = 0.35
"""How far above its support a dropped new body starts (m)."""
REST_GAP = 0.002
"""Gap between a placed new body and its support (m)."""
CLEARANCE = 0.01
"""Least gap between a new body and any other (m)."""
THROW_DISTANCE = 1.2
"""How far from its target a thrown new body starts (m)."""
G = 9.81
_SPECIAL_SIZES = {("tennis", "ball"): (0.033,), ("golf", "ball"): (0.021,), ("ping", "ball"): (0.02,),
                  ("bowling", "ball"): (0.108,), ("beach", "ball"): (0.2,), ("rubber", "ball"): (0.06,)}


@dataclass
class Compiled:
    """The events for one intent, and what the compiler had to decide or refuse."""

    events: list[Event]
    """Events for the simulator, in order (empty when nothing can or should happen)."""
    notes: list[str] = field(default_factory=list)
    """Plain-English notes: what was released first, why nothing happens."""
    problem: str | None = None
    """Why the intent could not compile (the narration says it), else None."""


def compile_intent(state: WorldState, camera: CameraSpec | None, intent: Intent) -> Compiled:
    """The events that carry out `intent` in `state`, seen through `camera`."""
    axes = screen_axes(camera)
    verb = intent.verb
    if verb == "nothing":
        return Compiled([])
    if verb == "spawn":
        return _spawn(state, axes, intent)
    if verb == "stop" and intent.target is None:
        moving = [i for i, e in state.entities.items() if not e.fixed and _speed(e) > 0.02]
        return Compiled([SetVelocityEvent(type="set_velocity", entity=i, velocity=(0.0, 0.0, 0.0))
                         for i in moving[:4]], [] if moving else ["nothing is moving"])
    if intent.target is None or intent.target not in state.entities:
        return Compiled([], problem=f"no entity {intent.target!r}" if intent.target else "no target named")
    e = state.entities[intent.target]
    return _BODY_VERBS[verb](state, axes, intent, intent.target, e)


def _push(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    d = push_direction(state, axes, intent, eid)
    speed = PUSH_SPEED[intent.strength]
    events: list[Event] = []
    notes = []
    if e.fixed:
        events.append(SetPropertyEvent(type="set_property", entity=eid, fixed=False))
        notes.append(f"{eid} was held, so it is released first")
    events.append(ApplyImpulseEvent(type="apply_impulse", entity=eid, impulse=_scaled(d, e.mass * speed)))
    return Compiled(events, notes)


def _toss(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    up = TOSS_SPEED[intent.strength]
    v = [0.0, 0.0, up]
    if intent.direction not in (None, "up", "down"):
        d = push_direction(state, axes, intent, eid)
        v = [0.3 * up * d[0], 0.3 * up * d[1], up]
    events: list[Event] = []
    notes = []
    if e.fixed:
        events.append(SetPropertyEvent(type="set_property", entity=eid, fixed=False))
        notes.append(f"{eid} was held, so it is released first")
    events.append(ApplyImpulseEvent(type="apply_impulse", entity=eid, impulse=_scaled(v, e.mass)))
    return Compiled(events, notes)


def _stop(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    if e.fixed:
        return Compiled([], [f"{eid} is held still already"])
    return Compiled([SetVelocityEvent(type="set_velocity", entity=eid, velocity=(0.0, 0.0, 0.0))])


def _release(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    if not e.fixed:
        return Compiled([], [f"{eid} is not held, so there is nothing to let go"])
    return Compiled([SetPropertyEvent(type="set_property", entity=eid, fixed=False)])


def _remove(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    return Compiled([RemoveEvent(type="remove", entity=eid)])


def _recolor(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    if intent.colour is None:
        return Compiled([], problem="no colour named")
    return Compiled([SetPropertyEvent(type="set_property", entity=eid, color=COLOURS[intent.colour])])


def _mass(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str, e: EntityState) -> Compiled:
    factor = max(intent.amount or DEFAULT_FACTOR, 1.01)
    mass = e.mass * factor if intent.verb == "heavier" else e.mass / factor
    mass = float(f"{min(max(mass, 0.001), 10_000.0):.4g}")
    return Compiled([SetPropertyEvent(type="set_property", entity=eid, mass=mass)])


_BODY_VERBS = {"push": _push, "toss_up": _toss, "stop": _stop, "release": _release, "remove": _remove,
               "recolor": _recolor, "heavier": _mass, "lighter": _mass}


def push_direction(state: WorldState, axes: ScreenAxes, intent: Intent, eid: str) -> tuple[float, float, float]:
    """The unit world direction a push on `eid` takes."""
    p = state.entities[eid].position
    word = intent.direction
    if word in ("left", "right", "toward", "away", "up", "down"):
        return axes.vector(word)  # type: ignore[return-value]
    if word in ("forward", "back"):
        row = _row_direction(state, eid)
        d = row if row is not None else axes.away
        return d if word == "forward" else (-d[0], -d[1], 0.0)
    if word == "at" and intent.place in state.entities:
        q = state.entities[intent.place].position
        d = unit((q[0] - p[0], q[1] - p[1], 0.0))
        return d if any(d) else axes.right
    if word == "along" and intent.place in state.entities:
        return _along(state, axes, eid, intent.place)
    if word == "off":
        support = intent.place if intent.place in state.entities else support_of(state, eid)
        if support is not None:
            return _to_edge(p, entity_box(state.entities[support]))
    return axes.right


def _row_direction(state: WorldState, eid: str) -> tuple[float, float, float] | None:
    family = re.sub(r"[-_]?\d+$", "", eid)
    others = [e.position for i, e in state.entities.items() if i != eid and re.sub(r"[-_]?\d+$", "", i) == family]
    if family == eid or not others:
        return None
    p = state.entities[eid].position
    c = [sum(q[k] for q in others) / len(others) for k in range(2)]
    d = unit((c[0] - p[0], c[1] - p[1], 0.0))
    return d if any(d) else None


def _along(state: WorldState, axes: ScreenAxes, eid: str, place: str) -> tuple[float, float, float]:
    box = entity_box(state.entities[place])
    p = state.entities[eid].position
    axis = 0 if box.hi[0] - box.lo[0] >= box.hi[1] - box.lo[1] else 1
    far = [box.lo[axis], box.hi[axis]]
    end = max(far, key=lambda x: abs(x - p[axis]))
    d = [0.0, 0.0, 0.0]
    d[axis] = 1.0 if end > p[axis] else -1.0
    return tuple(d)  # type: ignore[return-value]


def _to_edge(p: tuple[float, ...], box: Box) -> tuple[float, float, float]:
    gaps = [(p[0] - box.lo[0], (-1.0, 0.0, 0.0)), (box.hi[0] - p[0], (1.0, 0.0, 0.0)),
            (p[1] - box.lo[1], (0.0, -1.0, 0.0)), (box.hi[1] - p[1], (0.0, 1.0, 0.0))]
    return min(gaps)[1]


def support_of(state: WorldState, eid: str) -> str | None:
    """The body `eid` rests on (highest top under its bottom, overlapping it seen from above), or None."""
    me = entity_box(state.entities[eid])
    best = None
    for other, e in state.entities.items():
        if other == eid:
            continue
        b = entity_box(e)
        overlap = all(me.lo[k] < b.hi[k] and b.lo[k] < me.hi[k] for k in (0, 1))
        if overlap and b.hi[2] <= me.lo[2] + 0.02 and (best is None or b.hi[2] > best[0]):
            best = (b.hi[2], other)
    return best[1] if best else None


def _scaled(d, k: float) -> tuple[float, float, float]:
    return tuple(round(x * k, 5) + 0.0 for x in d)  # type: ignore[return-value]


def _speed(e: EntityState) -> float:
    return math.sqrt(sum(v * v for v in e.velocity))


# ---- spawns -------------------------------------------------------------------------------------


def spawn_body(intent: Intent, taken: set[str]) -> EntitySpec:
    """The new body's shape, size, mass, colour, id and description, at the origin."""
    words = tokens(intent.noun)
    head = singular(words[-1]) if words else ""
    shape, size = SPAWN_NOUNS.get(head, (intent.shape or "box", None)) if head else (intent.shape or "box", None)
    if intent.shape and intent.shape != shape:
        shape, size = intent.shape, None
    size = size or SPAWN_NOUNS[{"box": "cube", "sphere": "ball", "cylinder": "cylinder", "capsule": "capsule"}[shape]][1]
    for (mod, noun), special in _SPECIAL_SIZES.items():
        if mod in words and head == noun:
            size = special
    scale = next((SIZE_WORDS[w] for w in words if w in SIZE_WORDS), 1.0)
    known = _catalogued(words)
    if known is not None and not (intent.shape and intent.shape != known.shape):
        shape, size = known.shape, known.size
    size = tuple(round(s * scale, 4) for s in size)
    material = next((MATERIALS[w] for w in words if w in MATERIALS), (700, "#8c8c9c"))
    if known is not None and not any(w in MATERIALS for w in words):
        material = (known.mass / max(volume(shape, known.size), 1e-9), known.colour)
    color = COLOURS[intent.colour] if intent.colour else material[1]
    base = re.sub(r"[^a-z0-9]+", "-", head or shape).strip("-") or shape
    eid, n = base, 2
    while eid in taken:
        eid, n = f"{base}-{n}", n + 1
    mass = float(f"{max(default_mass(shape, size, material[0]), 0.005):.3g}")
    words_text = " ".join(words[:-1] + [head]) if words else shape
    article = "an" if words_text[0] in "aeiou" else "a"
    return EntitySpec(id=eid, shape=shape, size=size, position=(0.0, 0.0, 1.0), mass=mass, color=color,
                      description=f"{article} {words_text}"[:300])


def _catalogued(words: list[str]):
    """The catalogue object the longest tail of the noun's words names ("small golf ball" -> golf ball)."""
    for k in range(len(words)):
        found = catalogue_lookup(" ".join(words[k:]))
        if found is not None:
            return found
    return None


def _spawn(state: WorldState, axes: ScreenAxes, intent: Intent) -> Compiled:
    boxes = {i: entity_box(e) for i, e in state.entities.items()}
    taken = set(state.entities)
    events: list[Event] = []
    count = int(min(max(intent.amount or 1, 1), MAX_SPAWN_COUNT))
    for _ in range(count):
        body = spawn_body(intent, taken)
        placed = _throw(state, axes, intent, body, boxes) if intent.direction == "at" and intent.target in state.entities \
            else _place(state, axes, intent, body, boxes)
        if placed is None:
            break
        events.append(SpawnEvent(type="spawn", entity=placed))
        taken.add(placed.id)
        boxes[placed.id] = bounding_box(placed.shape, placed.size, placed.position, (1.0, 0.0, 0.0, 0.0))
    if not events:
        return Compiled([], problem="no free spot for a new body")
    return Compiled(events)


def _free(box: Box, boxes: dict[str, Box]) -> bool:
    return box.lo[2] >= 0.0 and all(box.gap(b) >= CLEARANCE for b in boxes.values())


def _place(state: WorldState, axes: ScreenAxes, intent: Intent, body: EntitySpec,
           boxes: dict[str, Box]) -> EntitySpec | None:
    support = intent.place
    if support is None and intent.target in state.entities:
        support = support_of(state, intent.target) or "floor"
    if support is None:
        support = _main_surface(state, boxes)
    half = local_half_extents(body.shape, body.size)
    if support in boxes:
        sb = boxes[support]
        top = sb.hi[2]
        lo = [sb.lo[k] + min(half[k], (sb.hi[k] - sb.lo[k]) / 2) for k in (0, 1)]
        hi = [sb.hi[k] - min(half[k], (sb.hi[k] - sb.lo[k]) / 2) for k in (0, 1)]
        centre = [(sb.lo[k] + sb.hi[k]) / 2 for k in (0, 1)]
    else:
        top, centre = 0.0, _scene_centre(state)
        lo, hi = [c - 2.0 for c in centre], [c + 2.0 for c in centre]
    want = list(state.entities[intent.target].position[:2]) if intent.target in state.entities else centre
    rest_z = top + half[2] + REST_GAP
    start_z = rest_z + (DROP_HEIGHT if intent.direction == "down" else 0.0)
    others = {i: b for i, b in boxes.items() if i != support}
    step = max(0.02, min(half[0], half[1]))
    best = None
    for x in _grid(lo[0], hi[0], step):
        for y in _grid(lo[1], hi[1], step):
            column = Box((x - half[0], y - half[1], rest_z - half[2]), (x + half[0], y + half[1], start_z + half[2]))
            if _free(column, others):
                d = math.hypot(x - want[0], y - want[1])
                if best is None or d < best[0]:
                    best = (d, x, y)
    if best is None:
        return None
    return body.model_copy(update={"position": (round(best[1], 4), round(best[2], 4), round(start_z, 4))})


def _main_surface(state: WorldState, boxes: dict[str, Box]) -> str:
    """The largest held body whose top is a surface (at least 0.1 m², below 1.5 m), else the floor."""
    def area(i: str) -> float:
        b = boxes[i]
        return (b.hi[0] - b.lo[0]) * (b.hi[1] - b.lo[1])

    surfaces = [i for i, e in state.entities.items() if e.fixed and boxes[i].hi[2] < 1.5 and area(i) >= 0.1]
    return max(surfaces, key=area, default="floor")


def _grid(lo: float, hi: float, step: float) -> list[float]:
    if hi <= lo:
        return [(lo + hi) / 2]
    n = int((hi - lo) / step) + 1
    return [lo + k * (hi - lo) / max(n - 1, 1) for k in range(n)] if n > 1 else [(lo + hi) / 2]


def _scene_centre(state: WorldState) -> list[float]:
    pts = [e.position for e in state.entities.values()] or [(0.0, 0.0, 0.0)]
    return [sum(p[k] for p in pts) / len(pts) for k in (0, 1)]


def _throw(state: WorldState, axes: ScreenAxes, intent: Intent, body: EntitySpec,
           boxes: dict[str, Box]) -> EntitySpec | None:
    t = state.entities[intent.target].position
    half = local_half_extents(body.shape, body.size)
    v_h = THROW_SPEED[intent.strength]
    tries = [axes.right, axes.vector("left"), axes.vector("toward"), axes.away]
    for d in tries:
        start = (t[0] - THROW_DISTANCE * d[0], t[1] - THROW_DISTANCE * d[1], max(t[2], half[2] + 0.02))
        box = bounding_box(body.shape, body.size, start, (1.0, 0.0, 0.0, 0.0))
        if not _free(box, boxes):
            continue
        flight = THROW_DISTANCE / v_h
        vz = (t[2] - start[2]) / flight + 0.5 * G * flight
        velocity = (round(v_h * d[0], 4), round(v_h * d[1], 4), round(vz, 4))
        return body.model_copy(update={"position": tuple(round(x, 4) for x in start), "velocity": velocity})
    return None
