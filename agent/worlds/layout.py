"""The layout compiler: a scene intent to posed pieces. Supports first, then what stands on them,
then what stands beside them; nothing overlaps (boxes checked, shifted until free)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agent.worlds.intent import Relation, SceneIntent
from agent.worlds.pieces import CLEARANCE, Piece, Unit, make_unit

GAP = 0.25
"""Space (m) between things on the floor that the words do not relate."""
NEAR = 0.06
"""Space (m) between a thing and the one it is next to, in front of or behind."""
LEAN_DEGREES = 18.0
RUN_UP = 0.5
"""Extra distance (m) in front of the thing an action sends another toward."""


@dataclass
class Layout:
    """Posed pieces and what the compiler assumed."""

    pieces: list[Piece]
    units: dict[str, Unit]
    assumptions: list[str] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)
    """Ref -> the id of the piece it stands on or in."""
    siblings: dict[str, list[str]] = field(default_factory=dict)
    """Object ref -> the refs that go on or in it, in order."""
    done: set[str] = field(default_factory=set)
    """Refs already placed (with their siblings)."""


def lay_out(intent: SceneIntent) -> Layout:
    grouped = {(r.subject, r.kind) for r in intent.relations if r.object is None}
    units = {}
    notes: list[str] = []
    for t in intent.things:
        kind = "stacked" if (t.ref, "stacked") in grouped else "in_a_row" if (t.ref, "in_a_row") in grouped else None
        units[t.ref] = make_unit(t, kind, notes)
    layout = Layout(pieces=[p for u in units.values() for p in u.pieces], units=units, assumptions=notes)
    positional = {r.subject: r for r in intent.relations if r.object is not None and r.object in units}
    act = intent.action
    run_up = act is not None and act.toward in units and act.target in units and act.target not in positional
    if run_up:  # a thing sent toward another starts in front of it (as seen from the camera), with a run-up
        positional[act.target] = Relation(kind="in_front_of", subject=act.target, object=act.toward)
    order = _order(list(units), positional, layout)
    for ref in order:
        rel = positional.get(ref)
        if rel is not None and rel.kind in ("on", "in"):
            layout.siblings.setdefault(rel.object, []).append(ref)
    placed: list[Piece] = []
    _floor_row([units[r] for r in order if r not in positional], placed)
    for ref in order:
        if ref in positional and ref not in layout.done:
            _place(units[ref], positional[ref], layout, placed)
            if run_up and ref == act.target:
                for p in units[ref].pieces:
                    p.pos[1] -= RUN_UP
    return layout


def _order(refs: list[str], positional: dict, layout: Layout) -> list[str]:
    """Objects before subjects; a relation that would make a cycle is dropped (and said)."""
    out: list[str] = []
    visiting: set[str] = set()

    def visit(ref: str) -> None:
        if ref in out:
            return
        if ref in visiting:
            rel = positional.pop(ref)
            layout.assumptions.append(f"'{rel.subject} {rel.kind} {rel.object}' goes round in a circle: ignored")
            return
        visiting.add(ref)
        if ref in positional:
            visit(positional[ref].object)
        visiting.discard(ref)
        if ref not in out:
            out.append(ref)

    for r in refs:
        visit(r)
    return out


def _floor_row(units: list[Unit], placed: list[Piece]) -> None:
    widths = [2 * u.half[0] for u in units]
    x = -(sum(widths) + GAP * (len(units) - 1)) / 2
    for u, w in zip(units, widths):
        u.put(x + w / 2, 0.0, 0.0)
        placed.extend(u.pieces)
        x += w + GAP


def _overlaps(unit: Unit, placed: list[Piece], ignore: set[str]) -> bool:
    return any(p.box.penetration(q.box) > 0.001 for p in unit.pieces for q in placed if q.ref not in ignore)


def _place(unit: Unit, rel, layout: Layout, placed: list[Piece]) -> None:
    obj = layout.units[rel.object]
    if rel.kind in ("on", "in"):
        _on(unit, obj, rel.kind, layout, placed)
    elif rel.kind == "around":
        _around(unit, obj, placed)
    elif rel.kind == "leaning_on":
        _lean(unit, obj, layout, placed)
    elif rel.kind == "under":
        _under(unit, obj, layout, placed)
    else:
        _beside(unit, obj, rel.kind, layout, placed)
    placed.extend(unit.pieces)


def _under(unit: Unit, obj: Unit, layout: Layout, placed: list[Piece]) -> None:
    """Beneath the object, clear of its parts (between a table's legs); beside it when nothing fits."""
    x, y = _centre(obj)
    ohx, ohy = obj.half
    parts = [b for p in obj.pieces for b in p.part_boxes()]
    for fx, fy in [(0, 0), (0.25, 0), (-0.25, 0), (0, 0.25), (0, -0.25), (0.25, 0.25), (-0.25, -0.25)]:
        unit.put(x + fx * 2 * ohx, y + fy * 2 * ohy, _base(obj))
        clear = not any(p.box.penetration(b) > 0.001 for p in unit.pieces for b in parts)
        if clear and not _overlaps(unit, placed, {obj.thing.ref}):
            return
    layout.assumptions.append(f"the {unit.thing.ref} does not fit under the {obj.thing.ref}: it goes beside it")
    _beside(unit, obj, "next_to", layout, placed)


def _centre(u: Unit) -> tuple[float, float]:
    xs = [p.pos[0] for p in u.pieces]
    ys = [p.pos[1] for p in u.pieces]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _base(u: Unit) -> float:
    return min(p.box.lo[2] for p in u.pieces) - CLEARANCE


def _on(unit: Unit, obj: Unit, kind: str, layout: Layout, placed: list[Piece]) -> None:
    """On the top (or in the inside) of the object (the top copy of a stack); every thing on the same
    object is placed at once, side by side along x."""
    if unit.thing.ref in layout.done:
        return
    host = obj.pieces[0] if obj.pieces[0].x.inside else obj.pieces[-1]
    inside = host.x.inside is not None
    if kind == "in" and not inside:
        layout.assumptions.append(f"the {host.x.template.noun} holds nothing: the {unit.thing.ref} goes on it")
    x, y, z, sx, sy = host.surface(inside)
    group = [layout.units[r] for r in layout.siblings[obj.thing.ref]]
    for u in group:
        _fit(u, sx, sy)
    rows = _rows(group, sx, sy)
    total = max(_row_width(r) for r in rows)
    if total > sx + 1e-6:
        layout.assumptions.append(f"what goes on the {host.x.template.noun} is wider than its "
                                  f"{'inside' if inside else 'top'} ({total:.2f} m > {sx:.2f} m): it may not stay")
    depths = [max(2 * u.half[1] for u in r) for r in rows]
    front = y - (sum(depths) + GAP * (len(rows) - 1)) / 2
    for row, depth in zip(rows, depths):
        left = x - _row_width(row) / 2
        for u in row:
            u.put(left + u.half[0], front + depth / 2, z)
            left += 2 * u.half[0] + GAP
            layout.parents[u.thing.ref] = host.id
            layout.done.add(u.thing.ref)
            if u is not unit:
                placed.extend(u.pieces)
        front += depth + GAP


GAP = 0.03
"""Space (m) between things set side by side on one surface."""


def _row_width(row: list[Unit]) -> float:
    return sum(2 * u.half[0] for u in row) + GAP * (len(row) - 1)


def _rows(group: list[Unit], sx: float, sy: float) -> list[list[Unit]]:
    """The things on one surface in rows along x: one row when it fits, else rows filled in turn
    (front to back) when they fit the depth, else one row (too wide: said as an assumption)."""
    if _row_width(group) <= sx + 1e-6:
        return [group]
    rows: list[list[Unit]] = [[]]
    for u in sorted(group, key=lambda u: -u.half[0]):
        if not rows[-1] or _row_width(rows[-1] + [u]) <= sx + 1e-6:
            rows[-1].append(u)
            continue
        fits = [r for r in rows if _row_width(r + [u]) <= sx + 1e-6]  # else the first earlier row it fits
        if not fits:
            rows.append([])
            fits = rows[-1:]
        fits[0].append(u)
    depth = sum(max(2 * u.half[1] for u in r) for r in rows) + GAP * (len(rows) - 1)
    wide = any(_row_width(r) > sx + 1e-6 for r in rows)
    return [group] if depth > sy + 1e-6 or wide else rows


def _fit(unit: Unit, sx: float, sy: float) -> None:
    """Copies that would not fit in a row go in a grid, then in layers."""
    n = len(unit.pieces)
    if n == 1 or abs(unit.offsets[1][2] - unit.offsets[0][2]) > 1e-9 or 2 * unit.half[0] <= sx:
        return
    w, d, h = unit.pieces[0].x.extent
    pitch_x, pitch_y = w + 0.01, d + 0.01
    cols = max(1, int(sx // pitch_x))
    rows = max(1, int(sy // pitch_y))
    per_layer = cols * rows
    offsets = []
    for k in range(n):
        layer, rest = divmod(k, per_layer)
        r, c = divmod(rest, cols)
        in_layer = min(per_layer, n - layer * per_layer)
        used_cols = min(cols, in_layer)
        used_rows = math.ceil(in_layer / cols)
        offsets.append(((c - (used_cols - 1) / 2) * pitch_x, (r - (used_rows - 1) / 2) * pitch_y,
                        unit.offsets[k][2] + layer * (h + 0.005)))
    unit.offsets = offsets


def _shift(unit: Unit, placed: list[Piece], direction, ignore: set[str], limit: int = 40) -> None:
    """Move the unit along `direction` until it overlaps nothing placed (up to `limit` steps)."""
    for _ in range(limit):
        if not _overlaps(unit, placed, ignore):
            return
        for p in unit.pieces:
            p.pos[0] += 0.05 * direction[0]
            p.pos[1] += 0.05 * direction[1]


SIDES = {"next_to": [(1, 0), (-1, 0), (0, -1), (0, 1)], "in_front_of": [(0, -1), (1, 0), (-1, 0)],
         "behind": [(0, 1), (1, 0), (-1, 0)]}


def _beside(unit: Unit, obj: Unit, kind: str, layout: Layout, placed: list[Piece]) -> None:
    """Beside the object on the surface it stands on; the first free side of those the words allow."""
    ox, oy = _centre(obj)
    ohx, ohy = obj.half
    hx, hy = unit.half
    z = _base(obj)
    support = layout.parents.get(obj.thing.ref)
    ignore = {layout.units[r].thing.ref for r in layout.units if any(p.id == support for p in layout.units[r].pieces)}
    for dx, dy in SIDES[kind]:
        unit.put(ox + dx * (ohx + NEAR + hx), oy + dy * (ohy + NEAR + hy), z)
        if not _overlaps(unit, placed, ignore):
            if support:
                layout.parents[unit.thing.ref] = support
            return
    dx, dy = SIDES[kind][0]
    unit.put(ox + dx * (ohx + NEAR + hx), oy + dy * (ohy + NEAR + hy), z)
    _shift(unit, placed, (dx, dy), ignore)


def _around(unit: Unit, obj: Unit, placed: list[Piece]) -> None:
    """The copies in a ring around the object, each facing it."""
    ox, oy = _centre(obj)
    ohx, ohy = obj.half
    w, d, _ = unit.pieces[0].x.extent
    n = len(unit.pieces)
    radius = max(ohx, ohy) + max(w, d) / 2 + NEAR
    radius = max(radius, (max(w, d) + 0.05) * n / (2 * math.pi))
    z = _base(obj)
    for k, piece in enumerate(unit.pieces):
        a = math.radians(360.0 * k / n - 90.0)
        piece.euler = (0.0, 0.0, math.degrees(a) - 90.0)
        piece.pos = [0.0, 0.0, 0.0]
        lift = -piece.box.lo[2]
        piece.pos = [ox + radius * math.cos(a), oy + radius * math.sin(a), z + lift + CLEARANCE]
    _shift(unit, placed, (0.0, -1.0), set())


def _lean(unit: Unit, obj: Unit, layout: Layout, placed: list[Piece]) -> None:
    """Its longest side from the floor up against the object's camera side (-y): against the face
    near the top when the thing is shorter than the object, else over the object's top edge."""
    piece = unit.pieces[0]
    w, d, h = piece.x.extent
    length, thick = max(w, d, h), min(w, d, h)
    base = _base(obj)
    height = max(p.box.hi[2] for p in obj.pieces) - base
    rising = 90.0 - LEAN_DEGREES if length * math.cos(math.radians(LEAN_DEGREES)) <= height else \
        math.degrees(math.asin(min(1.0, height / (0.85 * length))))
    t = math.radians(rising)
    front = min(p.box.lo[1] for p in obj.pieces)
    if rising >= 90.0 - LEAN_DEGREES - 1e-6:  # the top corner touches the face
        y0 = front - length * math.cos(t) - thick / 2 * math.sin(t) - 0.004
    else:  # the board passes over the top front edge
        y0 = front - height / math.tan(t)
    cy = y0 + length / 2 * math.cos(t) - (thick / 2 + 0.004) * math.sin(t)
    cz = base + length / 2 * math.sin(t) + (thick / 2 + 0.004) * math.cos(t)
    piece.euler = _upright(w, d, h, rising)
    ox, _ = _centre(obj)
    piece.pos = [ox, cy, cz]
    for k, other in enumerate(unit.pieces[1:], start=1):
        other.euler = piece.euler
        other.pos = [ox + k * (max(w, d) + 0.05), cy, cz]


def _upright(w: float, d: float, h: float, rising: float) -> tuple[float, float, float]:
    """Euler angles (never the y = ±90° gimbal lock) that turn the thing's longest side to rise
    `rising` degrees toward +y, its broad face toward the object."""
    if h >= max(w, d):
        return (-(90.0 - rising), 0.0, 0.0)
    return (rising, 0.0, 90.0) if w >= d else (rising, 0.0, 0.0)
