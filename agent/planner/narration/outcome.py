"""Faithful narration: what a turn actually did, from the world states before and after it.

:func:`agent.planner.narration.reconcile.reconcile` runs right after the simulation. It computes the outcome (what moved, which
way on screen and how far; what appeared, vanished, changed colour or mass, or was released),
checks the plan's narration against it (:mod:`agent.planner.narration.claims`), keeps the narration when it
agrees and otherwise replaces it with the outcome sentence, recording the disagreement. The
video caption is always written from the outcome. Pure and fast: no MuJoCo, no model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from agent.planner.words.camera import DIRECTION_PHRASES, direction_words, screen_axes
from agent.planner.narration.describe import colour_name
from agent.planner.words.intent import COLOURS
from agent.planner.formats.plan import CAPTION_MAX
from simulator.goals import surface_gap
from simulator.scene import CameraSpec
from simulator.state import EntityState, WorldState

OUTCOME_SCHEMA_VERSION = 1
MOVE_MIN = 0.03
"""A body whose centre moved less than this (m) did not move."""
TIP_MIN_DEG = 35.0
"""A body that turned more than this (degrees) tipped over."""
MAX_NAMED = 3
"""The outcome sentence names at most this many moving bodies."""
TOUCH = 0.01
"""Two surfaces closer than this (m) touch: a contact the narration and the caption name."""
_HEX = {v: k for k, v in COLOURS.items()}


class Moved(BaseModel):
    """One body that moved during the turn."""

    entity: str
    """Its id."""
    distance: float
    """How far its centre moved (m)."""
    displacement: tuple[float, float, float]
    """Its centre's change in world coordinates (m)."""
    directions: list[str]
    """Camera words for the motion: the horizontal ones (left, right, toward, away; main one first),
    then up or down when the centre rose or sank."""
    turned_deg: float
    """How far its own up axis tilted (degrees; 0 for spheres, which roll)."""
    peak: float = 0.0
    """The farthest its centre got from where it started during the turn (m; needs the frames)."""
    rise: float = 0.0
    """The highest its centre rose above where it started during the turn (m; needs the frames)."""


class Outcome(BaseModel):
    """What a turn did to the world, computed from the states before and after it."""

    schema_version: int = OUTCOME_SCHEMA_VERSION
    """Outcome format version."""
    moved: list[Moved] = Field(default_factory=list)
    """Bodies that moved, farthest first."""
    appeared: list[str] = Field(default_factory=list)
    """Ids of bodies that are new."""
    vanished: list[str] = Field(default_factory=list)
    """Ids of bodies that are gone."""
    recoloured: dict[str, str] = Field(default_factory=dict)
    """Id -> new colour ('#rrggbb')."""
    mass: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Id -> (mass before, mass after) in kg, for bodies whose mass changed."""
    released: list[str] = Field(default_factory=list)
    """Ids of bodies that were held and are free now."""
    held: list[str] = Field(default_factory=list)
    """Ids of bodies that were free and are held now."""
    contacts: list[tuple[str, str]] = Field(default_factory=list)
    """(moving body, body it came to touch) during the turn, from the frames (at most three)."""
    sentence: str = ""
    """The outcome in words (ids as names)."""

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.appeared or self.vanished or self.recoloured or self.mass or self.released
                     or self.held)


def name(eid: str) -> str:
    """How narration names an entity: its id with spaces ('block-8' -> 'block 8')."""
    return eid.replace("-", " ").replace("_", " ")


def compute_outcome(before: WorldState, after: WorldState, camera: CameraSpec | None = None,
                    frames: Sequence[WorldState] = ()) -> Outcome:
    """What changed between `before` and `after`, with motion in the camera's terms; `frames` (the
    states in between, optional) catch motion that ends where it began, such as a toss."""
    axes = screen_axes(camera)
    out = Outcome()
    for eid, a in after.entities.items():
        b = before.entities.get(eid)
        if b is None:
            out.appeared.append(eid)
            continue
        d = tuple(a.position[k] - b.position[k] for k in range(3))
        dist = math.sqrt(sum(x * x for x in d))
        turned = 0.0 if a.shape == "sphere" else _tilt_deg(b.orientation, a.orientation)
        peak, rise = dist, max(0.0, d[2])
        for f in frames:
            e = f.entities.get(eid)
            if e is not None:
                peak = max(peak, math.dist(e.position, b.position))
                rise = max(rise, e.position[2] - b.position[2])
        if dist >= MOVE_MIN or peak >= 2 * MOVE_MIN or (turned >= TIP_MIN_DEG and not a.fixed):
            out.moved.append(Moved(entity=eid, distance=round(dist, 3), displacement=tuple(round(x, 4) for x in d),
                                   directions=_directions(d, axes) if dist >= MOVE_MIN else [],
                                   turned_deg=round(turned, 1), peak=round(peak, 3), rise=round(rise, 3)))
        if a.color != b.color:
            out.recoloured[eid] = a.color
        if abs(a.mass - b.mass) > 1e-6 * max(a.mass, b.mass):
            out.mass[eid] = (b.mass, a.mass)
        if b.fixed and not a.fixed:
            out.released.append(eid)
        elif a.fixed and not b.fixed:
            out.held.append(eid)
    out.vanished = [eid for eid in before.entities if eid not in after.entities]
    out.moved.sort(key=lambda m: -m.distance)
    out.contacts = contacts(before, [m.entity for m in out.moved[:MAX_NAMED]], frames)
    out.sentence = outcome_sentence(out, after, name)
    return out


def contacts(before: WorldState, movers: list[str], frames: Sequence[WorldState], limit: int = 3) -> list[tuple[str, str]]:
    """Bodies the movers came to touch during the turn (not ones they touched already)."""
    found: list[tuple[str, str]] = []
    for m in movers:
        if m not in before.entities:
            continue
        apart = [o for o in before.entities if o != m and surface_gap(before.entities[m], before.entities[o]) > 0.02]
        for o in apart:
            if any(m in f.entities and o in f.entities and surface_gap(f.entities[m], f.entities[o]) < TOUCH
                   for f in frames) and (o, m) not in found:
                found.append((m, o))
                if len(found) >= limit:
                    return found
    return found


def _directions(d: tuple[float, ...], axes) -> list[str]:
    flat = math.hypot(d[0], d[1])
    words = direction_words((d[0], d[1], 0.0), axes) if flat >= MOVE_MIN else []
    if d[2] <= -MOVE_MIN:
        words.append("down")
    elif d[2] >= MOVE_MIN:
        words.append("up")
    return words


def _up_axis(q: tuple[float, ...]) -> tuple[float, float, float]:
    w, x, y, z = q
    return (2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y))


def _tilt_deg(q1: tuple[float, ...], q2: tuple[float, ...]) -> float:
    """How far the body's own up axis tilted between two orientations (spinning in place is no tilt)."""
    a, b = _up_axis(q1), _up_axis(q2)
    c = sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a) * sum(y * y for y in b)) or 1.0)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


_HORIZONTAL = ("left", "right", "toward", "away")


def motion_phrase(m: Moved) -> str:
    """'moves 0.42 m to the left and falls 0.70 m', 'tips over', ..."""
    horizontal = [w for w in m.directions if w in _HORIZONTAL]
    dz = m.displacement[2]
    flat = math.hypot(m.displacement[0], m.displacement[1])
    parts = []
    if m.rise >= 2 * MOVE_MIN and "up" not in m.directions:
        parts.append(f"rises {m.rise:.2f} m" + (" and comes back down" if dz < m.rise - MOVE_MIN else ""))
    if horizontal and flat >= MOVE_MIN:
        parts.append(f"moves {flat:.2f} m " + " and ".join(DIRECTION_PHRASES[w] for w in horizontal))
    if dz <= -MOVE_MIN and m.rise < 2 * MOVE_MIN:
        parts.append(f"falls {-dz:.2f} m")
    elif dz >= MOVE_MIN:
        parts.append(f"rises {dz:.2f} m")
    if not parts and m.distance >= MOVE_MIN:
        parts.append(f"shifts {m.distance:.2f} m")
    if not parts and m.peak >= 2 * MOVE_MIN:
        parts.append(f"moves up to {m.peak:.2f} m and comes back")
    if m.turned_deg >= TIP_MIN_DEG:
        parts.append("tips over")
    return " and ".join(parts)


def outcome_sentence(out: Outcome, after: WorldState, namer=name) -> str:
    """The outcome in plain sentences, with `namer(id)` naming bodies."""
    s = []
    for eid in out.appeared:
        s.append(f"{_article(namer(eid))} appears")
    for eid in out.released:
        s.append(f"the {namer(eid)} is let go")
    for eid in out.held:
        s.append(f"the {namer(eid)} is held in place")
    for m in out.moved[:MAX_NAMED]:
        who = f"the new {namer(m.entity)}" if m.entity in out.appeared else f"the {namer(m.entity)}"
        s.append(f"{who} {motion_phrase(m)}")
    if len(out.moved) > MAX_NAMED:
        s.append(f"{len(out.moved) - MAX_NAMED} others move too")
    for eid in out.vanished:
        s.append(f"the {namer(eid)} disappears")
    for eid, hex_colour in out.recoloured.items():
        s.append(f"the {namer(eid)} turns {_HEX.get(hex_colour) or colour_name(hex_colour)}")
    for eid, (m0, m1) in out.mass.items():
        s.append(f"the {namer(eid)} becomes {'heavier' if m1 > m0 else 'lighter'} ({m0:.3g} kg to {m1:.3g} kg)")
    if not s:
        return "Nothing moves."
    return " ".join(x[0].upper() + x[1:] + "." for x in s)


def _article(words: str) -> str:
    return ("an " if words[:1] in "aeiou" else "a ") + words


def caption_from_outcome(after: WorldState, out: Outcome) -> str:
    """A caption for the video model: each visible thing's look, then what it does, in its own words."""
    looks: dict[str, int] = {}
    for e in after.entities.values():
        look = e.description or f"a {colour_name(e.color)} {e.shape}"
        looks[look] = looks.get(look, 0) + 1
    scene = "; ".join(look if n == 1 else f"{look} (x{n})" for look, n in looks.items()) or "an empty floor"
    short = out.model_copy(update={"moved": out.moved[:2], "sentence": ""})
    described = outcome_sentence(short, after, lambda eid: _look(after, eid))
    if len(out.moved) > 2:
        described += f" {len(out.moved) - 2} others move too."
    for mover, other in out.contacts:  # what physically happens: contacts, for the video model
        described += f" The {_look(after, mover)} hits the {_look(after, other)}."
    text = f"A steady camera watches {scene}. {described}"
    if len(text) > CAPTION_MAX:
        text = f"A steady camera. {described}"
    return text[:CAPTION_MAX]


def _look(state: WorldState, eid: str) -> str:
    e: EntityState | None = state.entities.get(eid)
    if e is None or not e.description:
        return name(eid)
    words = e.description.split()
    return " ".join(words[1:] if words[0].lower() in ("a", "an", "the") else words)
