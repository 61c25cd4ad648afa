"""Referring expressions over the world state: kinds, quantifiers, superlatives, relations.

Grounding (:mod:`agent.planner.words.grounding`) finds the noun phrases; this module narrows what
they refer to with the state:

- kinds: "the fruit", "every toy", "the lightest object" (generic nouns never pick fixed scenery:
  a table, a floor, a wall, unless the words name it);
- quantifiers: "all", "every", "each", "both" make a group;
- superlatives and comparatives over mass, size, height and distance: "the heaviest fruit", "the
  smaller ball", "the tallest toy", "the block closest to the ball", "the fruit farthest from the
  camera", "the crate farthest to the left";
- relations that pick one of several: "the block on top", "the block on top of the green one", "the
  block under the yellow one", "the fruit next to the mug", "the pin behind pin 1", "the fruit left
  of the pear". A relation after a phrase that already names one body stays a relation of the
  verb ("put the apple on the book").

A phrase that still names several bodies with a singular noun is *ambiguous*: the planner asks
which one instead of guessing.
"""

from __future__ import annotations

import math

from agent.planner.words.camera import ScreenAxes, dot
from agent.planner.words.phrases import Phrase
from simulator.bounds import entity_box
from simulator.state import WorldState

KINDS: dict[str, frozenset[str]] = {
    "fruit": frozenset({"apple", "pear", "lemon", "orange", "banana", "grape", "peach", "plum", "cherry", "lime",
                        "melon", "mango", "kiwi", "apricot", "strawberry", "tomato"}),
    "toy": frozenset({"ball", "car", "duck", "block", "cube", "cylinder", "doll", "train", "truck", "top", "marble",
                      "domino", "sphere", "teddy", "bear", "yo", "kite"}),
    "drink": frozenset({"can", "bottle", "cup", "mug", "glass"}),
    "book": frozenset({"book", "notebook"}),
}
"""Category nouns and the head nouns they cover (data; the catalogue may grow it)."""
GENERIC = {"thing", "things", "object", "objects", "item", "items", "body", "bodies", "one", "ones", "everything",
           "stuff", "toy", "toys"}
QUANTIFIERS = {"all", "every", "each", "both", "everything"}
SUPERLATIVES: dict[str, tuple[str, int]] = {
    "heaviest": ("mass", 1), "lightest": ("mass", -1), "heavier": ("mass", 1), "lighter": ("mass", -1),
    "biggest": ("volume", 1), "largest": ("volume", 1), "bigger": ("volume", 1), "larger": ("volume", 1),
    "smallest": ("volume", -1), "tiniest": ("volume", -1), "smaller": ("volume", -1),
    "tallest": ("height", 1), "taller": ("height", 1), "shortest": ("height", -1), "shorter": ("height", -1),
}
"""Adjectives that pick the extreme of a measure among the candidates (sign: +1 the most)."""
PROXIMITY = {"closest": 1, "nearest": 1, "farthest": -1, "furthest": -1, "next": 1}


def measure(state: WorldState, eid: str, what: str) -> float:
    e = state.entities[eid]
    b = entity_box(e)
    if what == "mass":
        return e.mass
    if what == "height":
        return b.hi[2] - b.lo[2]
    return (b.hi[0] - b.lo[0]) * (b.hi[1] - b.lo[1]) * (b.hi[2] - b.lo[2])


def extreme(state: WorldState, ids: list[str], word: str) -> list[str]:
    """The candidate a superlative or comparative picks (all of them on a tie)."""
    what, sign = SUPERLATIVES[word]
    values = {i: sign * measure(state, i, what) for i in ids}
    best = max(values.values())
    return [i for i in ids if values[i] >= best - 1e-9 * max(1.0, abs(best))]


def of_kind(head: str, heads: dict[str, frozenset[str]], state: WorldState) -> list[str] | None:
    """Entities a category noun covers (None when `head` is no category); generic nouns cover the free bodies."""
    if head in KINDS:
        return [i for i, h in heads.items() if h & KINDS[head] and not state.entities[i].fixed]
    if head in GENERIC:
        free = [i for i, e in state.entities.items() if not e.fixed]
        return free or None
    return None


def _dist(state: WorldState, a: str, b: str) -> float:
    return entity_box(state.entities[a]).gap(entity_box(state.entities[b]))


def _closest_to(state: WorldState, ids: list[str], ref: Phrase, axes: ScreenAxes, sign: int,
                take: int = 1) -> list[str]:
    """The one of `ids` closest to (sign -1: farthest from) `ref`, or the `take` closest ("the two
    fruits closest to the mug")."""
    if ref.kind == "camera":
        key = lambda i: sign * axes.depth(state.entities[i].position)  # noqa: E731
    elif ref.kind in ("word", "edge") and ref.head in ("left", "right"):
        side = -1 if ref.head == "left" else 1  # "farthest to the left" and "closest to the left": the left-most
        key = lambda i: -side * axes.screen_x(state.entities[i].position)  # noqa: E731
    else:
        others = [r for r in ref.ids if r not in ids] or ref.ids
        if not others:
            return ids
        key = lambda i: sign * min(_dist(state, i, r) for r in others)  # noqa: E731
    return sorted(ids, key=key)[: max(1, take)]


def _related(state: WorldState, ids: list[str], rel: str, ref: Phrase, axes: ScreenAxes, take: int = 0) -> list[str]:
    """Those of `ids` in relation `rel` to `ref` (on top of, under, next to, behind, left/right of):
    the one that fits best, or the `take` best of a counted phrase ("the two pins behind pin 1")."""
    n = max(1, take)
    pos = {i: state.entities[i].position for i in ids}
    top = ref.words[-1:] == ["top"] or (ref.kind == "word" and ref.head in ("top", "it"))
    if rel == "support" and (top or (ref.ids and set(ref.ids) >= set(ids))):
        return [max(ids, key=lambda i: pos[i][2])]  # "the block on top (of the tower)"
    ids = [i for i in ids if i not in ref.ids] or ids
    pos = {i: state.entities[i].position for i in ids}
    refs = [r for r in ref.ids if r not in ids] or ref.ids
    if ref.kind == "floor":
        return [i for i in ids if entity_box(state.entities[i]).lo[2] < 0.05] or ids
    if not refs:
        return ids
    r = refs[0]
    rb, rp = entity_box(state.entities[r]), state.entities[r].position
    if rel == "support":
        on = [i for i in ids if abs(entity_box(state.entities[i]).lo[2] - rb.hi[2]) < 0.03
              and all(rb.lo[k] - 0.02 <= pos[i][k] <= rb.hi[k] + 0.02 for k in (0, 1))]
        return on or [i for i in ids if pos[i][2] > rp[2]][:1] or ids
    if rel == "under":
        below = [i for i in ids if pos[i][2] < rp[2] - 0.01]
        return sorted(below, key=lambda i: math.dist(pos[i], rp))[:n]
    if rel == "behind":  # farther along the scene's depth axis, and most nearly in line
        right, away = axes.scene_frame()
        rel_xy = {i: (pos[i][0] - rp[0], pos[i][1] - rp[1]) for i in ids}
        back = [i for i in ids if dot(rel_xy[i], away) > 0.01]
        score = {i: 3 * abs(dot(rel_xy[i], right)) + math.dist(pos[i], rp) for i in back}
        order = sorted(back, key=score.__getitem__)
        if not order:
            return []
        cut = score[order[min(n, len(order)) - 1]] + 0.15
        return [i for i in order if score[i] <= cut]  # more about as far behind than asked for: ask which
    if rel in ("left", "right"):
        side = -1 if rel == "left" else 1
        there = [i for i in ids if side * (axes.screen_x(pos[i]) - axes.screen_x(rp)) > 0.01]
        return sorted(there, key=lambda i: math.dist(pos[i], rp))[:n]
    return sorted(ids, key=lambda i: _dist(state, i, r))[:n]


def refine(phrases: list[Phrase], state: WorldState, axes: ScreenAxes) -> None:
    """Narrow phrases by the modifiers and relations that follow them; consumed phrases become 'ref'."""
    k = 0
    while k < len(phrases):
        p = phrases[k]
        nxt = phrases[k + 1] if k + 1 < len(phrases) else None
        after = phrases[k + 2] if k + 2 < len(phrases) else None
        if p.kind not in ("entity", "group") or len(p.ids) < 2 or nxt is None:
            k += 1
            continue
        word = nxt.words[0] if nxt.words and nxt.kind in ("word", "unknown", "entity") else ""
        if word in PROXIMITY and len(nxt.words) == 1 and after is not None and after.kind != "new":
            _settle(p, _closest_to(state, p.ids, after, axes, PROXIMITY[word], p.take))
            nxt.kind, after.kind, after.relation = "ref", "ref", None
            k += 3
            continue
        if word in ("left", "right") and len(nxt.words) == 1 and after is not None and after.kind in ("entity", "group"):
            _settle(p, _related(state, p.ids, word, after, axes, p.take))
            nxt.kind, after.kind, after.relation = "ref", "ref", None
            k += 3
            continue
        if p.kind == "entity" and nxt.relation in ("support", "under", "near", "behind"):
            rel = "near" if nxt.relation == "near" else nxt.relation
            _settle(p, _related(state, p.ids, rel, nxt, axes, p.take))
            nxt.kind, nxt.relation = "ref", None
            k += 2
            continue
        if p.kind == "group" and nxt.relation in ("support", "under") and nxt.ids:
            p.ids = _related_all(state, p.ids, nxt) or p.ids
            nxt.kind, nxt.relation = "ref", None
            k += 2
            continue
        k += 1


def _related_all(state: WorldState, ids: list[str], ref: Phrase) -> list[str]:
    r = ref.ids[0]
    rb = entity_box(state.entities[r])
    return [i for i in ids if i != r and abs(entity_box(state.entities[i]).lo[2] - rb.hi[2]) < 0.05
            and all(rb.lo[k] - 0.02 <= state.entities[i].position[k] <= rb.hi[k] + 0.02 for k in (0, 1))]


def _settle(p: Phrase, chosen: list[str]) -> None:
    if not chosen:
        p.kind, p.ids = "unknown", []
        return
    p.ids = chosen
    counted = p.take > 1 and len(chosen) == p.take  # "the two fruits closest to the mug": a group of two
    p.kind = "group" if counted else "entity"
    p.ambiguous = len(chosen) > 1 and not counted
