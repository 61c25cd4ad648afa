"""Settling a laid-out world: simulate it briefly so the first frame is at rest, and say what moved."""

from __future__ import annotations

import math

from simulator.scene import Scene
from simulator.world import World

SETTLE_SECONDS = 1.5
MOVED = 0.01
"""A thing that moved more than this (m) while settling is reported."""


def quat_euler(q) -> tuple[float, float, float]:
    """A wxyz quaternion as intrinsic xyz Euler angles in degrees (the scene format's convention)."""
    w, x, y, z = q
    n = math.sqrt(w * w + x * x + y * y + z * z) or 1.0
    w, x, y, z = w / n, x / n, y / n, z / n
    m01 = 2 * (x * y - z * w)
    m00 = 1 - 2 * (y * y + z * z)
    m02 = 2 * (x * z + y * w)
    m12 = 2 * (y * z - x * w)
    m22 = 1 - 2 * (x * x + y * y)
    b = math.asin(max(-1.0, min(1.0, m02)))
    a = math.atan2(-m12, m22)
    c = math.atan2(-m01, m00)
    return tuple(round(math.degrees(v), 3) + 0.0 for v in (a, b, c))


def settle(scene: Scene, seconds: float = SETTLE_SECONDS) -> tuple[dict[str, tuple], list[str], list[str]]:
    """(settled pose by id: (position, euler), what moved while settling, what still moves)."""
    world = World(scene)
    before = world.state().entities
    for _ in range(3):  # up to 3 x `seconds` while anything still moves
        world.advance(seconds, 4)
        after = world.state().entities
        if all(math.hypot(*e.velocity) < 0.02 for e in after.values()):
            break
    poses, moved, moving = {}, [], []
    for eid, e in after.items():
        if e.fixed:
            continue
        d = math.dist(e.position, before[eid].position)
        poses[eid] = (tuple(round(v, 4) + 0.0 for v in e.position), quat_euler(e.orientation))
        if d > MOVED:
            moved.append(f"{eid} moved {d * 100:.0f} cm while settling")
        if math.hypot(*e.velocity) > 0.05:
            moving.append(eid)
    return poses, moved, moving
