"""The cerebellum's imagination: roll candidate events forward on a scratch world, never the live one.

An :class:`Imagination` wraps :class:`simulator.imagine.Imaginer` and one snapshot (the world as
the turn starts) and counts the rollouts it ran, so a plan record can say how many it imagined.
The engine (or the bench) passes one built from the live world's scene and snapshot: exact. When a
caller passes none, :func:`from_state` builds a scratch scene from the exported state alone: the
same bodies, poses, velocities, masses and materials, with a body's own friction override left at
its material's (the state does not carry it), so its rollouts are close, not exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulator.imagine import Imaginer
from simulator.scene import CameraSpec, EntitySpec, Event, Scene
from simulator.state import WorldState
from simulator.world import World

HORIZON = 2.5
"""Seconds a candidate is imagined for: long enough for a push to play out, short enough to be cheap."""
FPS = 30
"""States per imagined second: a fast body's contact (a ball at 4 m/s covers 13 cm per state) must
fall on a state for a contact goal to see it."""


class Imagination:
    """Rollouts from one start state; `rollouts` counts them."""

    def __init__(self, imaginer: Imaginer, snapshot: bytes, seconds: float = HORIZON, fps: int = FPS):
        self.imaginer, self.snapshot, self.seconds, self.fps = imaginer, snapshot, seconds, fps
        self.rollouts = 0
        self.seconds_spent = 0.0

    def run(self, events: Sequence[Event]) -> list[WorldState]:
        """The states after `events`, from the start state on (empty when the world refuses them)."""
        import time

        t0 = time.perf_counter()
        self.rollouts += 1
        try:
            out = self.imaginer.run(self.snapshot, list(events), self.seconds, self.fps).states
        except ValueError:
            out = []
        self.seconds_spent += time.perf_counter() - t0
        return out


def scene_from_state(state: WorldState, camera: CameraSpec | None = None) -> Scene:
    """A scratch scene holding the state's bodies as they are now (friction left at its default)."""
    entities = []
    for eid, e in state.entities.items():
        entities.append(EntitySpec(id=eid, shape=e.shape, size=e.size, position=e.position,
                                   orientation=quat_euler(e.orientation), mass=e.mass, fixed=e.fixed, color=e.color,
                                   material=getattr(e, "material", None),
                                   velocity=(0.0, 0.0, 0.0) if e.fixed else e.velocity))
    return Scene(name="imagined", camera=camera or CameraSpec(), entities=entities)


def from_state(state: WorldState, camera: CameraSpec | None = None, seconds: float = HORIZON) -> Imagination:
    """An approximate imagination built from the exported state alone."""
    scene = scene_from_state(state, camera)
    return Imagination(Imaginer(scene), World(scene).snapshot(), seconds)


def quat_euler(q: Sequence[float]) -> tuple[float, float, float]:
    """A wxyz quaternion to intrinsic xyz Euler angles in degrees (the inverse of simulator.bounds.euler_quat)."""
    w, x, y, z = q
    r02 = 2 * (x * z + w * y)
    r12 = 2 * (y * z - w * x)
    r22 = 1 - 2 * (x * x + y * y)
    r01 = 2 * (x * y - w * z)
    r00 = 1 - 2 * (y * y + z * z)
    b = math.asin(max(-1.0, min(1.0, r02)))
    a = math.atan2(-r12, r22)
    c = math.atan2(-r01, r00)
    return tuple(round(math.degrees(v), 6) + 0.0 for v in (a, b, c))  # type: ignore[return-value]
