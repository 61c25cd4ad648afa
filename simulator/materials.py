"""Materials as data (``materials.yaml``) and how a body's surface maps onto MuJoCo's contact model.

A surface has sliding, torsional and rolling friction and a bounciness. MuJoCo combines two geoms'
frictions by taking the larger of each, and their ``solref``/``solimp`` by weighted average with
``solmix`` weights: the bounciness sets a geom's damping ratio and a ``solmix`` weight that grows
with it, so the bouncier of two surfaces mostly decides a contact's bounce (a rubber ball bounces on
a wooden floor; a dead floor does not kill it). Torsional and rolling friction act on round bodies
(spheres, cylinders, capsules: ``condim`` 6) and scale with the radius, so every ball rolled at the
same speed stops in about the same distance.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MATERIALS_FILE = Path(__file__).with_name("materials.yaml")
ROUND_SHAPES = ("sphere", "cylinder", "capsule")
DEFAULT_SLIDE = 1.0
"""MuJoCo's sliding friction, for a surface of no material and no friction given."""
DEFAULT_TORSION = 0.02
"""Torsional friction per metre of radius of a round body of no material."""
DEFAULT_ROLL = 0.08
"""Rolling resistance per metre of radius of a round body of no material: a ball rolled at 1 m/s
stops in about 1.1 m (measured; see materials.yaml)."""
BOX_FRICTION = (0.005, 0.0001)
"""MuJoCo's default torsional and rolling coefficients, kept for boxes (condim 3 ignores them)."""
CONTACT_TIMECONST = 0.02
"""The contact's time constant (s), MuJoCo's default; at least 10 physics steps for a stable bounce."""
MIN_DAMPRATIO = 0.15
"""The damping ratio of bounciness 1 (lower ratios gain energy at dt = 2 ms)."""
DEFAULT_SOLREF = (0.02, 1.0)
"""MuJoCo's default (time constant, damping ratio): no bounce."""
SOLMIX_GAIN = 5.0
"""solmix = exp(SOLMIX_GAIN * bounciness): the bouncier surface weighs about e^5 ≈ 150 times more."""


class Material(BaseModel):
    """One material: friction, bounciness, density and a typical colour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The material's name (its key in the file)."""
    slide: float = Field(ge=0, le=10)
    """Sliding friction coefficient."""
    torsion: float = Field(ge=0, le=1)
    """Torsional friction per metre of radius (round bodies)."""
    roll: float = Field(ge=0, le=1)
    """Rolling resistance per metre of radius (round bodies)."""
    bounciness: float = Field(ge=0, le=1)
    """0 (dead) .. 1 (a superball)."""
    density: float = Field(gt=0, le=25_000)
    """Density of the solid material (kg/m³)."""
    colour: str = Field(pattern=r"^#[0-9a-f]{6}$")
    """A typical colour, '#rrggbb'."""
    description: str
    """The adjective for it in words ('wooden', 'icy')."""


@functools.cache
def materials() -> dict[str, Material]:
    """Every known material by name (read once from ``materials.yaml``)."""
    raw = yaml.safe_load(MATERIALS_FILE.read_text(encoding="utf-8"))
    try:
        return {name: Material(name=name, **values) for name, values in raw.items()}
    except ValidationError as exc:
        raise RuntimeError(f"{MATERIALS_FILE} is damaged: {exc}") from None


def material(name: str) -> Material:
    """The material called `name`; ValueError naming the known ones otherwise."""
    known = materials()
    if name not in known:
        raise ValueError(f"material {name!r} is not known; known materials: {', '.join(sorted(known))}")
    return known[name]


def check_material(name: str | None) -> str | None:
    """A field validator: None or a known material's name."""
    if name is not None:
        material(name)
    return name


class Surface(NamedTuple):
    """A geom's contact settings in MuJoCo's terms."""

    friction: tuple[float, float, float]
    """Sliding, torsional (m), rolling (m) coefficients."""
    condim: int
    """Contact dimensionality: 3 (sliding), 6 (sliding, torsion, rolling)."""
    solref: tuple[float, float] | None
    """(time constant, damping ratio), or None for MuJoCo's default (no bounce)."""
    solmix: float
    """Weight of this geom's solref in a contact."""


def surface(shape: str, size: tuple[float, ...], material_name: str | None, friction: float | None,
            bounciness: float | None, timestep: float) -> Surface:
    """The contact settings of a body (or the ground, shape 'plane') of this material, with explicit
    `friction` and `bounciness` overriding the material's."""
    mat = material(material_name) if material_name else None
    slide = friction if friction is not None else (mat.slide if mat else DEFAULT_SLIDE)
    bounce = bounciness if bounciness is not None else (mat.bounciness if mat else None)
    solref = None if bounce is None else bounce_solref(bounce, timestep)
    solmix = 1.0 if bounce is None else math.exp(SOLMIX_GAIN * bounce)
    if shape in ROUND_SHAPES:
        radius = size[0]
        torsion = (mat.torsion if mat else DEFAULT_TORSION) * radius
        roll = (mat.roll if mat else DEFAULT_ROLL) * radius
        return Surface((slide, torsion, roll), 6, solref, solmix)
    return Surface((slide, *BOX_FRICTION), 3, solref, solmix)


def bounce_solref(bounciness: float, timestep: float) -> tuple[float, float]:
    """The (time constant, damping ratio) of a surface of `bounciness` (0..1): the damping ratio
    falls geometrically from 1 (dead) to MIN_DAMPRATIO; the time constant spans >= 10 steps."""
    return (max(CONTACT_TIMECONST, 10 * timestep), MIN_DAMPRATIO ** bounciness)


def floor_contact(body: Surface, floor: Surface) -> Surface:
    """The contact of a body with a floor that has its own surface (a material, a friction or a
    bounciness): the more slippery of the two slides (an icy floor makes everything slide), the body's
    torsion, rolling and contact dimension, and the two bounces mixed by their weights as MuJoCo mixes them."""
    ref_b, ref_f = body.solref or DEFAULT_SOLREF, floor.solref or DEFAULT_SOLREF
    w = floor.solmix / (floor.solmix + body.solmix)
    solref = (w * ref_f[0] + (1 - w) * ref_b[0], w * ref_f[1] + (1 - w) * ref_b[1])
    friction = (min(body.friction[0], floor.friction[0]), body.friction[1], body.friction[2])
    return Surface(friction, body.condim, solref, 1.0)


def material_mass(name: str, volume: float) -> float:
    """The mass (kg) of `volume` m³ of the material."""
    return material(name).density * volume
