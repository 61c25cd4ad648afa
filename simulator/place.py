"""Placement as motion: the lift-carry-lower path a placed body follows, and where it may end.

A ``place`` event carries a free body along a path driven step by step (its free joint's position
and velocity are set before each physics step, so it pushes what is in its way like a hand would):
up by ``lift`` above the higher of its start and end, across, and down onto the target, each leg
with a minimum-jerk profile (at rest at both ends of a leg), turning smoothly to upright with its
heading kept. At the end it is put exactly at the target, upright, at rest, and released.
Pure geometry and timing here: :mod:`simulator.world` drives it, :mod:`simulator.scene` checks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from simulator.bounds import Box, bounding_box, rotation

Vec = tuple[float, float, float]
Quat = tuple[float, float, float, float]


def upright(quat: Sequence[float]) -> Quat:
    """The yaw-only orientation keeping the heading of `quat` (its x axis, or y when x points up)."""
    rot = rotation(quat)
    x, y = (rot[0][0], rot[1][0]), (rot[0][1], rot[1][1])
    if math.hypot(*x) > 0.3:
        yaw = math.atan2(x[1], x[0])
    else:
        yaw = math.atan2(y[1], y[0]) - math.pi / 2
    return (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


def target_box(shape: str, size: Sequence[float], position: Sequence[float], quat: Sequence[float]) -> Box:
    """The bounding box a placed body will have at `position` (set upright)."""
    return bounding_box(shape, size, position, upright(quat))


def resting_position(shape: str, size: Sequence[float], quat: Sequence[float], x: float, y: float,
                     surface_z: float) -> Vec:
    """Where a placed body's centre goes to rest at (x, y) on a surface at height `surface_z` (it is
    set down upright: its bottom touches the surface). What a planner puts in a place event."""
    box = target_box(shape, size, (x, y, 0.0), quat)
    return (float(x), float(y), float(surface_z - box.lo[2]))


def _minjerk(t: float) -> tuple[float, float]:
    """Position and rate (per unit time) of a minimum-jerk move from 0 to 1 over t in [0, 1]."""
    t = min(max(t, 0.0), 1.0)
    return t ** 3 * (10 - 15 * t + 6 * t * t), 30 * t * t * (1 - t) ** 2


def _qmul(a: Sequence[float], b: Sequence[float]) -> Quat:
    return (a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0])


@dataclass(frozen=True)
class Placement:
    """One body's placement in progress (kept in snapshots as plain numbers)."""

    start: Vec
    """Centre where the carry began (m)."""
    end: Vec
    """Centre where it ends (m)."""
    top: float
    """Height of the carry leg (m)."""
    start_quat: Quat
    """Orientation at the start (wxyz)."""
    end_quat: Quat
    """Orientation at the end: upright, heading kept."""
    steps: int
    """Physics steps the whole motion takes."""
    done: int = 0
    """Physics steps taken so far."""

    @staticmethod
    def plan(start: Sequence[float], quat: Sequence[float], end: Sequence[float], lift: float, seconds: float,
             timestep: float) -> Placement:
        top = max(start[2], end[2]) + lift
        return Placement(tuple(map(float, start)), tuple(map(float, end)), float(top),
                         tuple(map(float, quat)), upright(quat), max(1, round(seconds / timestep)))

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> Placement:
        return Placement(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def _legs(self) -> list[tuple[Vec, Vec]]:
        up = (self.start[0], self.start[1], self.top)
        over = (self.end[0], self.end[1], self.top)
        return [(self.start, up), (up, over), (over, self.end)]

    def at(self, k: int, timestep: float) -> tuple[Vec, Quat, Vec, Vec]:
        """Centre, orientation, linear velocity (world) and angular velocity (body frame) at step `k`."""
        duration = self.steps * timestep
        legs = self._legs()
        lengths = [math.dist(a, b) for a, b in legs]
        total = sum(lengths)
        t = k / self.steps
        pos, vel = self.end, (0.0, 0.0, 0.0)
        if total > 1e-9:
            t0 = 0.0
            for (a, b), length in zip(legs, lengths):
                share = length / total
                if share > 0 and t <= t0 + share + 1e-12:
                    s, rate = _minjerk((t - t0) / share)
                    pos = tuple(a[i] + s * (b[i] - a[i]) for i in range(3))
                    vel = tuple((b[i] - a[i]) * rate / (share * duration) for i in range(3))
                    break
                t0 += share
        quat, spin = self._turn(t, duration)
        return pos, quat, vel, spin

    def _turn(self, t: float, duration: float) -> tuple[Quat, Vec]:
        """Slerp from the start to the end orientation (body-frame axis, minimum-jerk angle)."""
        q0 = self.start_quat
        rel = _qmul((q0[0], -q0[1], -q0[2], -q0[3]), self.end_quat)
        if rel[0] < 0:
            rel = tuple(-c for c in rel)
        half = math.acos(min(1.0, rel[0]))
        n = math.sin(half)
        if n < 1e-9:
            return self.end_quat if t >= 1 else q0, (0.0, 0.0, 0.0)
        axis = (rel[1] / n, rel[2] / n, rel[3] / n)
        s, rate = _minjerk(t)
        h = half * s
        q = _qmul(q0, (math.cos(h), axis[0] * math.sin(h), axis[1] * math.sin(h), axis[2] * math.sin(h)))
        omega = 2 * half * rate / duration
        return q, (axis[0] * omega, axis[1] * omega, axis[2] * omega)


def place_problem(eid: str, shape: str, size: Sequence[float], quat: Sequence[float], position: Sequence[float],
                  others: dict[str, Box], tolerance: float) -> str | None:
    """Why body `eid` cannot end at `position`: below the floor, or inside another body's bounds."""
    box = target_box(shape, size, position, quat)
    if box.lo[2] < -tolerance:
        return (f"place {eid!r} at {list(position)}: its bottom would be at z = {box.lo[2]:.3f} m, below the "
                f"floor; raise its centre to at least z = {position[2] - box.lo[2]:.3f}")
    for other, other_box in others.items():
        if other == eid:
            continue
        depth = box.penetration(other_box)
        if depth > tolerance:
            return (f"place {eid!r} at {list(position)}: it would be inside {other!r} by {depth:.3f} m; put it "
                    f"beside it or on top, e.g. at z = {other_box.hi[2] + position[2] - box.lo[2]:.3f}")
    return None
