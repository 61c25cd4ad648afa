"""The world state as exported each frame: plain data, JSON-ready, no MuJoCo types."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simulator.scene import Shape

STATE_SCHEMA_VERSION = 1


class EntityState(BaseModel):
    """One entity at one instant."""

    model_config = ConfigDict(extra="forbid")

    shape: Shape
    """Primitive shape."""
    size: tuple[float, ...]
    """Size as in the scene file (box full extents; sphere [radius]; cylinder/capsule [radius, length])."""
    position: tuple[float, float, float]
    """Centre in world coordinates (m)."""
    orientation: tuple[float, float, float, float]
    """Unit quaternion [w, x, y, z]."""
    velocity: tuple[float, float, float]
    """Linear velocity (m/s); zero for fixed entities."""
    angular_velocity: tuple[float, float, float]
    """Angular velocity in the world frame (rad/s)."""
    mass: float
    """Mass (kg)."""
    color: str
    """Colour as '#rrggbb'."""
    fixed: bool
    """True while the entity is held in place."""
    description: str
    """The entity's description in words."""
    material: str | None = None
    """What it is made of (a name in simulator/materials.yaml), when known."""


class WorldState(BaseModel):
    """Every entity at one instant of simulated time."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = STATE_SCHEMA_VERSION
    """State format version."""
    step: int
    """Index of the scene step this state belongs to."""
    time: float
    """Simulated time (s)."""
    entities: dict[str, EntityState]
    """Entities by id, in creation order; removed entities are absent."""
