"""The world in words: bounding boxes, spatial relations, colour names, captions.

Small language models are weak at raw coordinates, so the planner's prompt and the scripted
captions both describe the world through these relations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from agent.knowledge.colours import distance
from agent.planner.words.intent import COLOURS
from simulator.bounds import Box, entity_box
from simulator.scene import HEX_COLOR
from simulator.state import EntityState, WorldState

TOUCH_GAP = 0.01
"""Two bodies closer than this (m) count as touching."""

def colour_name(hex_colour: str) -> str:
    """The nearest of the intents' plain colour words for '#rrggbb', by perceptual distance over the
    one colour table ('' when the value is not such a colour)."""
    if not isinstance(hex_colour, str) or not HEX_COLOR.match(hex_colour):
        return ""
    return min(COLOURS, key=lambda n: distance(hex_colour, COLOURS[n]))


def relations(state: WorldState, near: float = 0.5) -> list[str]:
    """Plain-English relations: what rests on what, and where each free body is relative to
    the bodies near it (within `near` metres). Fixed-to-fixed layout is left out: it never changes."""
    boxes = {eid: entity_box(e) for eid, e in state.entities.items()}
    free = {eid for eid, e in state.entities.items() if not e.fixed}
    out = [f"{a} is on the floor" for a in free if boxes[a].lo[2] <= TOUCH_GAP]
    supported = {a for a in free if boxes[a].lo[2] <= TOUCH_GAP}
    ids = list(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            stacked = _stacked(a, boxes[a], b, boxes[b])
            if stacked and (a in free or b in free or len(ids) <= 8):
                out.append(stacked)
                supported.add(stacked.split(" ", 1)[0])
    stacks = {tuple(r.split(" is on top of ")) for r in out if " is on top of " in r}
    paired: set[frozenset[str]] = set()
    for a in (eid for eid in ids if eid in free):
        others = [(boxes[a].gap(boxes[b]), b) for b in ids
                  if b != a and (a, b) not in stacks and (b, a) not in stacks]
        if others and min(others)[0] <= near:
            b = min(others)[1]
            text = _beside(a, boxes[a], b, boxes[b])
            if text and frozenset((a, b)) not in paired:
                paired.add(frozenset((a, b)))
                out.append(text)
    for a in free - supported:
        below = [(boxes[a].lo[2] - boxes[b].hi[2], b) for b in ids
                 if b != a and _overlap_xy(boxes[a], boxes[b]) and boxes[b].hi[2] <= boxes[a].lo[2]]
        gap, under = min(below) if below else (boxes[a].lo[2], "the floor")
        out.append(f"{a} is in the air, {gap:.2f} m above {under}")
    return out


def _stacked(a: str, ba: Box, b: str, bb: Box) -> str | None:
    if not _overlap_xy(ba, bb):
        return None
    if ba.lo[2] >= bb.hi[2] - TOUCH_GAP:
        upper, hi, lower, lo = a, ba, b, bb
    elif bb.lo[2] >= ba.hi[2] - TOUCH_GAP:
        upper, hi, lower, lo = b, bb, a, ba
    else:
        return None
    return f"{upper} is on top of {lower}" if hi.lo[2] - lo.hi[2] <= TOUCH_GAP else None


def _beside(a: str, ba: Box, b: str, bb: Box) -> str | None:
    ca = [(ba.lo[i] + ba.hi[i]) / 2 for i in range(3)]
    cb = [(bb.lo[i] + bb.hi[i]) / 2 for i in range(3)]
    dx, dy, dz = ca[0] - cb[0], ca[1] - cb[1], ca[2] - cb[2]
    if abs(dz) > max(abs(dx), abs(dy)):
        return None
    if abs(dx) >= abs(dy):
        text = f"{a} is {'left' if dx < 0 else 'right'} of {b}"
    else:
        text = f"{a} is {'in front of' if dy < 0 else 'behind'} {b}"
    gap = ba.gap(bb)
    return text + (", touching" if gap <= TOUCH_GAP else f", {gap:.2f} m apart")


def _overlap_xy(a: Box, b: Box) -> bool:
    return all(a.lo[i] < b.hi[i] and b.lo[i] < a.hi[i] for i in (0, 1))


def size_words(shape: str, size: Sequence[float]) -> str:
    if shape == "box":
        return "box " + " x ".join(f"{s:.2f}" for s in size) + " m"
    if shape == "sphere":
        return f"sphere radius {size[0]:.2f} m"
    return f"{shape} radius {size[0]:.2f} m, length {size[1]:.2f} m"


def _vec(v: Sequence[float]) -> str:
    return "(" + ", ".join(f"{x:.2f}" for x in v) + ")"


def entity_line(eid: str, e: EntityState) -> str:
    text = f"- {eid}: {colour_name(e.color)} {size_words(e.shape, e.size)}, "
    if e.fixed:
        text += f"fixed, at {_vec(e.position)}"
    else:
        speed = math.hypot(*e.velocity)
        motion = "" if speed < 0.02 else f", moving {_vec(e.velocity)} m/s"
        text += f"{e.mass:.3g} kg, free, at {_vec(e.position)}{motion}"
    return text + (f', "{e.description}"' if e.description else "")


def world_text(state: WorldState) -> str:
    lines = [f"t = {state.time:.2f} s. Entities (x right, y away, z up, floor z = 0):"]
    lines += [entity_line(eid, e) for eid, e in state.entities.items()] or ["- (none)"]
    rel = relations(state)
    if rel:
        lines.append("Relations: " + "; ".join(rel) + ".")
    return "\n".join(lines)


def caption_for(state: WorldState, narration: str = "") -> str:
    """A caption from the entities' own descriptions, their motion, and a steady camera."""
    parts = []
    for eid, e in state.entities.items():
        look = e.description or f"a {colour_name(e.color)} {e.shape}"
        motion = "resting" if math.hypot(*e.velocity) < 0.02 else "in motion"
        parts.append(f"{look} ({eid}), {motion}")
    text = "A steady camera watches " + ("; ".join(parts) if parts else "an empty floor") + "."
    if narration:
        text += " " + narration.strip()
    return text[:500]
