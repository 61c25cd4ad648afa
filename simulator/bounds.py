"""Axis-aligned bounds, volumes and Euler angles of the scene's primitives (pure geometry, no MuJoCo).

One formula for each: the planner, the scene checker and the limits read these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Posed(Protocol):
    """Anything with a primitive's shape, size and pose (an exported entity state, say)."""

    shape: str
    size: Sequence[float]
    position: Sequence[float]
    orientation: Sequence[float]


def volume(shape: str, size: Sequence[float]) -> float:
    """The volume (m³) of a primitive of `size` in the scene's convention (box: full sides;
    sphere: radius; cylinder/capsule: radius and length of the straight part)."""
    if shape == "box":
        return size[0] * size[1] * size[2]
    r = size[0]
    ball = 4.0 / 3.0 * math.pi * r ** 3
    if shape == "sphere":
        return ball
    tube = math.pi * r * r * size[1]
    return tube + ball if shape == "capsule" else tube


@dataclass(frozen=True)
class Box:
    """An axis-aligned bounding box (m)."""

    lo: tuple[float, float, float]
    """Minimum corner."""
    hi: tuple[float, float, float]
    """Maximum corner."""

    def gap(self, other: Box) -> float:
        """Distance between the boxes (0 when they overlap)."""
        d = [max(0.0, self.lo[i] - other.hi[i], other.lo[i] - self.hi[i]) for i in range(3)]
        return math.sqrt(sum(x * x for x in d))

    def penetration(self, other: Box) -> float:
        """How deep the boxes interpenetrate along their shallowest axis (0 when apart)."""
        return max(0.0, min(min(self.hi[i], other.hi[i]) - max(self.lo[i], other.lo[i]) for i in range(3)))


def local_half_extents(shape: str, size: Sequence[float]) -> tuple[float, float, float]:
    """Half extents along the body's own axes."""
    if shape == "box":
        return (size[0] / 2, size[1] / 2, size[2] / 2)
    r = size[0]
    if shape == "sphere":
        return (r, r, r)
    half = size[1] / 2 + (r if shape == "capsule" else 0.0)
    return (r, r, half)


def rotation(quat: Sequence[float]) -> list[list[float]]:
    """The 3x3 rotation matrix of a wxyz quaternion (normalised first)."""
    w, x, y, z = quat
    n = math.sqrt(w * w + x * x + y * y + z * z) or 1.0
    w, x, y, z = w / n, x / n, y / n, z / n
    return [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]


def euler_quat(degrees: Sequence[float]) -> tuple[float, float, float, float]:
    """Intrinsic xyz Euler angles in degrees to a wxyz quaternion (as the simulator reads them)."""
    q = (1.0, 0.0, 0.0, 0.0)
    for axis, deg in enumerate(degrees):
        h = math.radians(deg) / 2
        r = [math.cos(h), 0.0, 0.0, 0.0]
        r[axis + 1] = math.sin(h)
        a, b = q, r
        q = (
            a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
        )
    return q


def bounding_box(shape: str, size: Sequence[float], position: Sequence[float], quat: Sequence[float]) -> Box:
    """The world-axis-aligned box around a posed primitive."""
    half = local_half_extents(shape, size)
    if shape == "sphere":  # a sphere's box does not grow as it rolls
        ext = list(half)
    else:
        rot = rotation(quat)
        ext = [sum(abs(rot[i][j]) * half[j] for j in range(3)) for i in range(3)]
    return Box(
        lo=tuple(position[i] - ext[i] for i in range(3)), hi=tuple(position[i] + ext[i] for i in range(3))
    )


def entity_box(e: Posed) -> Box:
    """The bounding box of an entity as the state exports it."""
    return bounding_box(e.shape, e.size, e.position, e.orientation)
