"""The camera: placed to frame the named things, the subject near the centre, each thing visible in
the first frame's segmentation (checked by rendering it; moved back or up until it is)."""

from __future__ import annotations

import math

from simulator.bounds import Box, entity_box
from simulator.scene import CameraSpec, Scene
from simulator.world import World

FOV = 45.0
MIN_PIXELS = 6
"""Segmentation pixels a named thing needs to count as visible."""


def _union(boxes: list[Box]) -> Box:
    return Box(lo=tuple(min(b.lo[i] for b in boxes) for i in range(3)),
               hi=tuple(max(b.hi[i] for b in boxes) for i in range(3)))


def aim(boxes: list[Box], subject: Box, elevation: float = 24.0, azimuth: float = 28.0,
        scale: float = 1.0, aspect: float = 4 / 3) -> CameraSpec:
    """A camera from the front (-y), a little to the right, framing `boxes` around `subject`."""
    every = _union(boxes)
    centre = [(every.lo[i] + every.hi[i]) / 2 for i in range(3)]
    sub = [(subject.lo[i] + subject.hi[i]) / 2 for i in range(3)]
    look = [0.4 * c + 0.6 * s for c, s in zip(centre, sub)]
    reach = max(math.dist(look, corner) for corner in _corners(every))
    half = math.radians(FOV / 2)
    distance = max(0.25, scale * reach / math.tan(half * min(1.0, aspect)))
    el, az = math.radians(elevation), math.radians(azimuth)
    direction = (math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el))
    pos = [look[i] + distance * direction[i] for i in range(3)]
    pos[2] = max(pos[2], 0.25)
    pos = [max(-90.0, min(90.0, v)) for v in pos]
    return CameraSpec(position=tuple(round(v, 3) for v in pos), look_at=tuple(round(v, 3) for v in look), fov=FOV)


def _corners(b: Box):
    return [(x, y, z) for x in (b.lo[0], b.hi[0]) for y in (b.lo[1], b.hi[1]) for z in (b.lo[2], b.hi[2])]


def visible_pixels(scene: Scene, world: World | None = None) -> dict[str, int]:
    """Segmentation pixels per entity id in the scene's first frame."""
    from renderer.geometry import GeometryRenderer

    world = world or World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        frame = renderer.render(world, segmentation=True)
    return {label: int((frame.segmentation == i).sum()) for i, label in enumerate(frame.labels)}


def frame(scene: Scene, named: list[str], subject: str, tries: int = 5) -> tuple[CameraSpec, list[str]]:
    """A camera that shows every `named` entity; the entities still hidden after `tries` (if any)."""
    world = World(scene)
    state = world.state().entities
    boxes = [entity_box(state[e]) for e in named]
    aspect = scene.render.width / scene.render.height
    elevation, scale = 24.0, 1.0
    hidden: list[str] = []
    for _ in range(tries):
        camera = aim(boxes, entity_box(state[subject]), elevation, scale=scale, aspect=aspect)
        pixels = visible_pixels(scene.model_copy(update={"camera": camera}), world)
        hidden = [e for e in named if pixels.get(e, 0) < MIN_PIXELS]
        if not hidden:
            return camera, []
        elevation = min(70.0, elevation + 14.0)
        scale *= 0.9 if all(max(b.hi[i] - b.lo[i] for i in range(3)) < 0.05 for b in
                            [entity_box(state[e]) for e in hidden]) else 1.15
    return camera, hidden
