"""The typed template catalogue and its expander: ``template: table`` + parameters + material ->
the parts, mass, colour and friction of an ordinary composite entity."""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from simulator.materials import material as find_material
from simulator.parts import PartSpec, envelope, part_volumes
from simulator.primitives import Shape
from simulator.templates.expr import ExprError, compile_expr, evaluate

TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")
Expr = str | float | int
"""A number, or arithmetic over the template's parameters (see :mod:`simulator.templates.expr`)."""


class TemplateError(ValueError):
    """A template name, parameter or material that cannot be expanded; the message says the fix."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartTemplate(_Data):
    """One part (or a repeated or mirrored set of parts) of a template, with a bottom-origin frame."""

    shape: Shape
    """Primitive shape."""
    size: list[Expr]
    """Size as in the scene format, each an expression."""
    position: list[Expr] = [0, 0, 0]
    """Centre of the part (z = 0 is the bottom of the thing)."""
    orientation: list[Expr] = [0, 0, 0]
    """Euler angles in degrees (intrinsic xyz)."""
    color: str | None = None
    """'#rrggbb' for this part, or 'dark' (a shade of the thing's colour); the thing's colour when omitted."""
    repeat: Expr | None = None
    """Repeat the part this many times; expressions may read `i` (0, 1, ...) and `n_rep`."""
    mirror: Literal["x", "y", "xy"] | None = None
    """Also place the part mirrored across x = 0, y = 0 or both (four copies)."""


class Region(_Data):
    """Where things go on (or in) a template, in its bottom-origin frame."""

    height: Expr
    """Height of the surface things stand on (m above the thing's bottom)."""
    at: list[Expr] = [0, 0]
    """Centre of the surface [x, y]."""
    size: list[Expr] | None = None
    """Usable extents [x, y]; the thing's footprint when omitted."""


class Template(_Data):
    """A parametric everyday thing made of parts."""

    name: str
    """Its name (the key in templates.yaml)."""
    noun: str
    """The word for it ('table')."""
    synonyms: list[str] = []
    """Other words for it."""
    base: str | None = None
    """Another template whose parts and regions this one reuses (with its own parameter defaults)."""
    params: dict[str, float] = {}
    """Parameters and their defaults (metres, counts)."""
    material: str
    """Default material (sets colour, friction and density)."""
    color: str | None = None
    """Default colour, when not the material's."""
    mass: Expr | None = None
    """Mass in kg for hollow or filled things; else the parts' volume times the material's density."""
    fixed: bool = False
    """Held in place by default (architecture: walls, steps, goals)."""
    parts: list[PartTemplate] = []
    """The part list (empty when `base` gives it)."""
    top: Region | None = None
    """Where things are put 'on' it; the top of its envelope when omitted."""
    inside: Region | None = None
    """Where things are put 'in' it (containers only)."""
    round: bool = False
    """Rolls (a ball, a can on its side): a wide rest tolerance while settling."""


class Expanded(BaseModel):
    """A template with numbers: parts in the thing's bottom-origin frame and what layout needs."""

    model_config = ConfigDict(frozen=True)

    template: Template
    """The template (resolved `base`)."""
    params: dict[str, float]
    """Every parameter's value."""
    parts: tuple[PartSpec, ...]
    """Parts posed in the bottom-origin frame."""
    centre: tuple[float, float, float]
    """Centre of the parts' envelope in the bottom-origin frame."""
    extent: tuple[float, float, float]
    """Full extents of the envelope."""
    mass: float
    """kg."""
    color: str
    """'#rrggbb'."""
    material: str
    """Material name."""
    top: tuple[float, float, float, float, float]
    """Surface to put things on: (x, y, height, size x, size y) in the bottom-origin frame."""
    inside: tuple[float, float, float, float, float] | None
    """Surface inside a container, as `top`; None when it holds nothing."""

    def description(self) -> str:
        adjective = find_material(self.material).description
        return f"a {adjective} {self.template.noun}"


@functools.cache
def templates() -> dict[str, Template]:
    """Every template by name (read once), bases resolved."""
    raw = yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))
    try:
        found = {name: Template(name=name, **values) for name, values in raw.items()}
    except ValidationError as exc:
        raise RuntimeError(f"{TEMPLATES_FILE} is damaged: {exc}") from None
    for name, t in list(found.items()):
        if t.base:
            base = found[t.base]
            found[name] = t.model_copy(update={
                "parts": base.parts, "params": {**base.params, **t.params},
                "top": t.top or base.top, "inside": t.inside or base.inside})
    return found


def template(word: str) -> Template:
    """The template named (or called, by synonym) `word`; TemplateError with a suggestion otherwise."""
    known = templates()
    key = word.strip().lower().replace(" ", "-")
    if key in known:
        return known[key]
    for t in known.values():
        if key in t.synonyms:
            return t
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise TemplateError(f"unknown template {word!r}; {hint}known templates: {', '.join(sorted(known))}")


def _values(t: Template, params: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(params) - set(t.params))
    if unknown:
        allowed = ", ".join(f"{k} (default {v:g})" for k, v in t.params.items()) or "none"
        raise TemplateError(f"params.{unknown[0]}: template {t.name!r} has no parameter {unknown[0]!r}; "
                            f"its parameters: {allowed}")
    values = {**t.params, **params}
    for k, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise TemplateError(f"params.{k}: {v!r} must be a positive number (metres, or a count)")
    return values


def _ev(expr: Expr, values: Mapping[str, float]) -> float:
    return evaluate(compile_expr(expr), values)


def _part_copies(p: PartTemplate, values: dict[str, float], color: str) -> list[PartSpec]:
    count = int(round(_ev(p.repeat, values))) if p.repeat is not None else 1
    out = []
    for i in range(max(count, 0)):
        local = {**values, "i": float(i), "n_rep": float(count)}
        size = tuple(_ev(s, local) for s in p.size)
        pos = [_ev(s, local) for s in p.position]
        rot = tuple(_ev(s, local) for s in p.orientation)
        part_color = _shade(color) if p.color == "dark" else p.color
        signs = {"x": [(1, 1), (-1, 1)], "y": [(1, 1), (1, -1)], "xy": [(1, 1), (-1, 1), (1, -1), (-1, -1)]}
        for sx, sy in signs.get(p.mirror or "", [(1, 1)]):
            out.append(PartSpec(shape=p.shape, size=size, position=(sx * pos[0], sy * pos[1], pos[2]),
                                orientation=rot, color=part_color))
    return out


def _shade(color: str) -> str:
    rgb = [int(color[k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{int(c * 0.62):02x}" for c in rgb)


def _region(r: Region | None, values, centre, extent) -> tuple[float, float, float, float, float] | None:
    if r is None:
        return None
    at = [_ev(a, values) for a in r.at]
    size = [_ev(s, values) for s in r.size] if r.size else [extent[0], extent[1]]
    return (at[0], at[1], _ev(r.height, values), size[0], size[1])


def expand(name: str, params: Mapping[str, float] | None = None, material: str | None = None,
           color: str | None = None) -> Expanded:
    """The template `name` with `params` (defaults for the rest), in `material` (or its default)."""
    t = template(name)
    values = _values(t, params or {})
    mat_name = material or t.material
    try:
        mat = find_material(mat_name)
        colour = color or (t.color if material is None and t.color else mat.colour)
        parts = tuple(p for pt in t.parts for p in _part_copies(pt, values, colour))
        mass = _ev(t.mass, values) if t.mass is not None else mat.density * sum(part_volumes(parts))
    except (ExprError, ValidationError, ValueError, ZeroDivisionError) as exc:
        raise TemplateError(f"template {t.name!r} with params {values}: {exc}") from None
    centre, extent = envelope(parts)
    top = _region(t.top, values, centre, extent) or (centre[0], centre[1], centre[2] + extent[2] / 2,
                                                     extent[0], extent[1])
    return Expanded(template=t, params=values, parts=parts, centre=centre, extent=extent, mass=mass,
                    color=colour, material=mat_name, top=top, inside=_region(t.inside, values, centre, extent))


def expand_entity(data: Mapping, entity_fields: set[str]) -> dict:
    """An entity's raw fields with ``template`` expanded into parts, mass, colour, friction and a
    description (each only where the entity does not give it)."""
    out = dict(data)
    params = out.get("params") or {}
    if not isinstance(params, Mapping):
        raise TemplateError(f"params: give a mapping of parameter names to numbers, got {params!r}")
    mat = out.get("material")
    x = expand(str(out["template"]), params, mat if isinstance(mat, str) else None, out.get("color"))
    single = x.parts[0] if len(x.parts) == 1 and not any(x.parts[0].orientation) else None
    if single is not None and "parts" not in out:  # one primitive: a plain entity (a ball is a sphere)
        out.setdefault("shape", single.shape)
        out.setdefault("size", list(single.size))
        if single.color:
            out.setdefault("color", single.color)
    else:
        out.setdefault("parts", [p.model_dump() for p in x.parts])
    out.setdefault("mass", round(x.mass, 6))
    out.setdefault("color", x.color)
    out.setdefault("description", x.description())
    out.setdefault("fixed", x.template.fixed)
    if "material" in entity_fields:
        out.setdefault("material", x.material)
    else:
        out.pop("material", None)
        out.setdefault("friction", find_material(x.material).slide)
    return out
