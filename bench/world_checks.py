"""Predicates on a built world (for bench/world_bench.py): things, sizes, relations after settling,
rest, interpenetration, visibility and the first action's outcome. Pure over exported states."""

from __future__ import annotations

import math

from simulator.bounds import Box, entity_box
from simulator.templates import expand

REST = 0.01
"""A thing that moves more than this (m) in the first second has not settled."""


def by_template(scene, state, template: str) -> list[str]:
    ids = [e.id for e in scene.entities if e.template == template]
    return [i for i in ids if i in state.entities]


def _box(state, eid) -> Box:
    return entity_box(state.entities[eid])


def _xy_inside(a: Box, b: Box, margin: float = 0.01) -> bool:
    cx, cy = (a.lo[0] + a.hi[0]) / 2, (a.lo[1] + a.hi[1]) / 2
    return b.lo[0] - margin <= cx <= b.hi[0] + margin and b.lo[1] - margin <= cy <= b.hi[1] + margin


def _supports(state, eid: str) -> set[str]:
    """Entities whose top is within 2 cm of `eid`'s bottom, under it."""
    a = _box(state, eid)
    out = set()
    for other in state.entities:
        if other != eid:
            b = _box(state, other)
            if _xy_inside(a, b, 0.02) and b.lo[2] < a.lo[2] and a.lo[2] - 0.03 <= b.hi[2]:
                out.add(other)
    return out


def _rests_on(state, eid: str, target: set[str]) -> bool:
    seen, todo = set(), [eid]
    while todo:
        cur = todo.pop()
        for s in _supports(state, cur):
            if s in target:
                return True
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return False


def _depth(camera, box: Box) -> float:
    f = [camera.look_at[i] - camera.position[i] for i in range(3)]
    n = math.sqrt(sum(v * v for v in f))
    c = [(box.lo[i] + box.hi[i]) / 2 - camera.position[i] for i in range(3)]
    return sum(c[i] * f[i] for i in range(3)) / n


def relation_holds(kind: str, subjects: list[str], objects: list[str], state, camera) -> bool:
    if not subjects:
        return False
    if kind == "stacked":
        return _stacked(state, subjects)
    if kind == "in_a_row":
        return _row(state, subjects)
    if not objects:
        return False
    if kind == "around":
        return _around(state, subjects, objects[0])
    return all(any(_pair(kind, s, o, state, camera) for o in objects) for s in subjects)


def _pair(kind: str, s: str, o: str, state, camera) -> bool:
    a, b = _box(state, s), _box(state, o)
    if kind == "on":
        return _rests_on(state, s, {o})
    if kind == "in":
        return _xy_inside(a, b, 0.0) and a.lo[2] >= b.lo[2] - 0.005 and a.lo[2] < b.hi[2]
    if kind == "next_to":
        return a.gap(b) <= 0.35 and a.penetration(b) < 0.005
    if kind in ("in_front_of", "behind"):
        ahead = _depth(camera, a) < _depth(camera, b) - 0.02
        return (ahead if kind == "in_front_of" else not ahead) and a.gap(b) <= 1.0
    if kind == "under":
        return _xy_inside(a, b, 0.02) and a.hi[2] <= b.hi[2]
    if kind == "leaning_on":
        q = state.entities[s].orientation
        tilt = math.degrees(2 * math.acos(min(1.0, abs(q[0]))))
        return tilt > 5 and a.gap(b) < 0.02
    raise ValueError(f"unknown relation {kind!r}")


def _stacked(state, ids: list[str]) -> bool:
    boxes = sorted((_box(state, i) for i in ids), key=lambda b: b.lo[2])
    return len(boxes) > 1 and all(abs(up.lo[2] - down.hi[2]) < 0.02 and _xy_inside(up, down, 0.0)
                                  for down, up in zip(boxes, boxes[1:]))


def _row(state, ids: list[str]) -> bool:
    pts = [state.entities[i].position[:2] for i in ids]
    if len(pts) < 2:
        return False
    (x0, y0), (x1, y1) = min(pts), max(pts)
    n = math.hypot(x1 - x0, y1 - y0) or 1.0
    off = max(abs((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) / n for x, y in pts)
    return off < 0.05


def _around(state, ids: list[str], centre_id: str) -> bool:
    c = state.entities[centre_id].position
    angles = sorted(math.atan2(state.entities[i].position[1] - c[1], state.entities[i].position[0] - c[0])
                    for i in ids)
    gaps = [b - a for a, b in zip(angles, angles[1:])] + [2 * math.pi - (angles[-1] - angles[0])]
    return len(ids) >= 2 and max(gaps) <= math.pi + 0.2


def plausible_size(scene, state, eid: str) -> bool:
    e = next(x for x in scene.entities if x.id == eid)
    default = max(expand(e.template).extent)
    size = max(state.entities[eid].size)
    return 0.3 * default <= size <= 3.5 * default


def moved(before, after, eid: str) -> float:
    return math.dist(before.entities[eid].position, after.entities[eid].position)


def interpenetration(world) -> float:
    """The deepest contact penetration (m) in the world now."""
    d = world.data
    return max([0.0] + [-float(d.contact[i].dist) for i in range(d.ncon)])


def action_holds(verb: str, target: str, toward: str | None, direction: str | None, before, after) -> bool:
    a0, a1 = before.entities[target], after.entities[target]
    shift = [a1.position[i] - a0.position[i] for i in range(3)]
    if verb == "drop":
        return shift[2] < -0.05
    if verb == "knock_over":
        return math.hypot(shift[0], shift[1]) > 0.05 or abs(a1.orientation[0]) < 0.9
    if toward is not None and toward in before.entities:
        t = before.entities[toward].position
        d0 = math.dist(a0.position[:2], t[:2])
        d1 = min(math.dist(a1.position[:2], t[:2]), d0)
        return d0 - d1 > 0.05 or moved(before, after, toward) > 0.02
    want = {"left": (-1, 0), "right": (1, 0), "forward": (0, -1), "back": (0, 1)}.get(direction or "right", (1, 0))
    return shift[0] * want[0] + shift[1] * want[1] > 0.05
