"""Composite bodies: one rigid entity made of several primitive parts.

A composite entity is ONE MuJoCo body with one geom per part: one id, one mass, one segmentation
label and one line in the state export. Its ``position`` is the centre of the box around all its
parts; each part's ``position`` is relative to that centre in the entity's own frame (parts are
re-centred on load, so only their positions relative to each other matter). Seen from outside
(bounds, grounding, the planner) a composite is a box of its overall extent.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, ValidationInfo, field_validator

from simulator.bounds import bounding_box, euler_quat, volume
from simulator.limits import finite_vector
from simulator.primitives import Friction, Shape, Strict, Vec3, check_color, size_problem

DENSITY_DEFAULT = 1000.0
"""kg/m³ of a body whose mass is not given (water; MuJoCo's default too)."""
_DIGITS = 9


class PartSpec(Strict):
    """One primitive of a composite entity, posed in the entity's frame."""

    shape: Shape
    """Primitive shape: box, sphere, cylinder or capsule."""
    size: tuple[float, ...]
    """box: full extents [x, y, z]; sphere: [radius]; cylinder/capsule: [radius, length] (m)."""
    position: Vec3 = (0.0, 0.0, 0.0)
    """Centre of the part relative to the entity's centre, in the entity's frame (m)."""
    orientation: Vec3 = (0.0, 0.0, 0.0)
    """Euler angles of the part in the entity's frame, about x, y, z in degrees (intrinsic xyz)."""
    color: str | None = None
    """Colour of this part as '#rrggbb'; the entity's colour when omitted."""
    friction: Friction | None = None
    """Sliding friction of this part; the entity's when omitted."""

    _check_position = field_validator("position")(lambda v: finite_vector(v))
    _check_orientation = field_validator("orientation")(lambda v: finite_vector(v))
    _check_color = field_validator("color")(lambda v: v if v is None else check_color(v))

    @field_validator("size")
    @classmethod
    def _check_size(cls, v: tuple[float, ...], info: ValidationInfo) -> tuple[float, ...]:
        shape = info.data.get("shape")
        problem = size_problem(shape, v) if shape else None
        if problem:
            raise ValueError(problem)
        return v


def envelope(parts: Sequence[PartSpec]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(centre, full extents) of the axis-aligned box around `parts` in the entity's frame."""
    boxes = [bounding_box(p.shape, p.size, p.position, euler_quat(p.orientation)) for p in parts]
    lo = [min(b.lo[i] for b in boxes) for i in range(3)]
    hi = [max(b.hi[i] for b in boxes) for i in range(3)]
    centre = tuple((lo[i] + hi[i]) / 2 for i in range(3))
    return centre, tuple(round(hi[i] - lo[i], _DIGITS) for i in range(3))


def centred(parts: Sequence[PartSpec]) -> tuple[tuple[PartSpec, ...], tuple[float, float, float]]:
    """`parts` shifted so their envelope is centred on the entity's origin, and the envelope's
    extents. Idempotent: centring centred parts changes nothing (positions are rounded to 1 nm)."""
    centre, extent = envelope(parts)
    moved = tuple(
        p.model_copy(update={"position": tuple(round(p.position[i] - centre[i], _DIGITS) + 0.0 for i in range(3))})
        for p in parts
    )
    return moved, extent


def part_volumes(parts: Sequence[PartSpec]) -> list[float]:
    """The volume (m³) of each part (overlaps counted twice, as MuJoCo does)."""
    return [volume(p.shape, p.size) for p in parts]


def parts_mass(parts: Sequence[PartSpec], density: float = DENSITY_DEFAULT) -> float:
    """The mass MuJoCo gives the parts at `density` (kg/m³)."""
    return density * sum(part_volumes(parts))


def part_masses(parts: Sequence[PartSpec], total: float) -> list[float]:
    """`total` kg shared among `parts` in proportion to their volumes (uniform density)."""
    vols = part_volumes(parts)
    whole = sum(vols)
    return [total * v / whole for v in vols]


class PartState(Strict):
    """One part of a composite entity as the state export shows it (static: parts never move
    relative to their entity)."""

    shape: Shape
    """Primitive shape."""
    size: tuple[float, ...]
    """Size as in the scene file."""
    position: Vec3
    """Centre relative to the entity's centre, in the entity's frame (m)."""
    orientation: tuple[float, float, float, float] = Field(default=(1.0, 0.0, 0.0, 0.0))
    """Unit quaternion [w, x, y, z] in the entity's frame."""
    color: str
    """Colour as '#rrggbb'."""


def part_states(parts: Sequence[PartSpec], entity_color: str) -> tuple[PartState, ...]:
    """The exported form of `parts`."""
    return tuple(
        PartState(shape=p.shape, size=p.size, position=p.position,
                  orientation=tuple(round(q, 6) + 0.0 for q in euler_quat(p.orientation)),
                  color=p.color or entity_color)
        for p in parts
    )
