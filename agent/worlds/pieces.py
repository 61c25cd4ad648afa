"""The things of a scene intent made concrete: one piece per entity, grouped in units (a thing's
copies, arranged as a row, a stack or a ring), with their boxes and the surfaces they offer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agent.planner import COLOUR_SYNONYMS, COLOURS
from agent.worlds.intent import Thing
from simulator.bounds import Box, bounding_box, euler_quat
from simulator.templates import TemplateError, expand
from simulator.templates.expand import Expanded

COUNT_PARAMS = {"segments", "shelves", "posts", "count"}
CLEARANCE = 0.002
"""Gap (m) left under everything placed, so nothing starts in contact deeper than the solver likes."""


def colour_hex(word: str | None) -> str | None:
    if word is None or word.startswith("#"):
        return word
    word = COLOUR_SYNONYMS.get(word, word)
    return COLOURS.get(word)


def expanded(thing: Thing) -> Expanded:
    """The template of `thing` with its scale, material and colour."""
    base = expand(thing.template)
    values = {**base.params, **thing.params}
    params = {k: (v if k in COUNT_PARAMS else v * thing.scale) for k, v in values.items()}
    changed = thing.scale != 1.0 or thing.params
    return expand(thing.template, params if changed else None, thing.material, colour_hex(thing.color))


@dataclass
class Piece:
    """One entity: a template instance posed in the world (position = centre of its envelope)."""

    id: str
    ref: str
    x: Expanded
    pos: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    euler: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fixed: bool = False

    @property
    def box(self) -> Box:
        return bounding_box("box", self.x.extent, self.pos, euler_quat(self.euler))

    def part_boxes(self) -> list[Box]:
        """The world box of each part (the envelope when the piece is turned)."""
        if any(abs(a) > 1e-9 for a in self.euler):
            return [self.box]
        c = self.x.centre
        return [bounding_box(p.shape, p.size, [self.pos[i] + p.position[i] - c[i] for i in range(3)],
                             euler_quat(p.orientation)) for p in self.x.parts]

    def surface(self, inside: bool = False) -> tuple[float, float, float, float, float]:
        """(x, y, z, size x, size y) in the world of where things go on (or in) it; yaw only."""
        region = (self.x.inside if inside else None) or self.x.top
        dx, dy = region[0] - self.x.centre[0], region[1] - self.x.centre[1]
        yaw = math.radians(self.euler[2])
        wx = self.pos[0] + dx * math.cos(yaw) - dy * math.sin(yaw)
        wy = self.pos[1] + dx * math.sin(yaw) + dy * math.cos(yaw)
        z = self.pos[2] - self.x.centre[2] + region[2]
        sx, sy = (region[3], region[4]) if abs(math.sin(yaw)) < 0.7 else (region[4], region[3])
        return wx, wy, z, sx, sy


@dataclass
class Unit:
    """A thing's copies, arranged relative to the unit's bottom centre."""

    thing: Thing
    pieces: list[Piece]
    offsets: list[tuple[float, float, float]]
    """Each piece's envelope centre relative to the unit's bottom centre."""

    @property
    def half(self) -> tuple[float, float]:
        """Half extents of the unit's footprint (x, y)."""
        xs = [abs(o[0]) + p.box.hi[0] - p.pos[0] for o, p in zip(self.offsets, self.pieces)]
        ys = [abs(o[1]) + p.box.hi[1] - p.pos[1] for o, p in zip(self.offsets, self.pieces)]
        return max(xs), max(ys)

    @property
    def height(self) -> float:
        return max(o[2] + (p.box.hi[2] - p.pos[2]) for o, p in zip(self.offsets, self.pieces))

    def put(self, x: float, y: float, z: float) -> None:
        """Put the unit's bottom centre at (x, y, z) (z: the surface it stands on)."""
        for piece, off in zip(self.pieces, self.offsets):
            piece.pos = [x + off[0], y + off[1], z + off[2] + CLEARANCE]


def make_unit(thing: Thing, arrangement: str | None, notes: list[str]) -> Unit:
    """The copies of `thing`, as a row (default), a stack, or a tight row of dominoes. A template
    with a `count` parameter (steps) takes the number itself: "three steps" is one flight of three."""
    if thing.count > 1 and "count" in expand(thing.template).params:
        notes.append(f"{thing.count} {thing.ref}: one {thing.template} with count {thing.count}")
        thing = thing.model_copy(update={"count": 1, "params": {**thing.params, "count": float(thing.count)}})
    try:
        x = expanded(thing)
    except TemplateError as exc:
        notes.append(f"the {thing.ref} at {thing.scale:g} times its size cannot be built ({exc}): real size used")
        x = expanded(thing.model_copy(update={"scale": 1.0}))
    n = thing.count
    ids = [thing.ref] if n == 1 else [f"{thing.ref}-{k + 1}" for k in range(n)]
    pieces = [Piece(id=i, ref=thing.ref, x=x, fixed=x.template.fixed) for i in ids]
    w, d, h = x.extent
    half_z = [p.pos[2] - p.box.lo[2] for p in pieces]
    if arrangement == "stacked":
        offsets = [(0.0, 0.0, k * (h + CLEARANCE) + half_z[k]) for k in range(n)]
    else:
        tall = h > 1.5 * w and arrangement == "in_a_row"
        step = (0.65 * h if tall else w + max(0.04, 0.4 * w)) if n > 1 else 0.0
        offsets = [((k - (n - 1) / 2) * step, 0.0, half_z[k]) for k in range(n)]
    return Unit(thing=thing, pieces=pieces, offsets=offsets)
