"""Hand-written expectations for the planner benches: does a plan do what its action asks?

Each expectation names the event types the action may use and one check that some event must
pass (the key event). Every event in the plan must be of an allowed type, so a plan that adds an
unasked-for kick to a colour change does not match. Moves (impulse, force, velocity) are judged
by the velocity they give: its direction, and a speed that stays plausible (at most 10 m/s).

:data:`CASES` holds 75 actions over all six shipped scenes in 13 categories (the 20 of
bench/planner.py among them); :data:`HELDOUT` holds 20 more, written before the lexicon was tuned
and never tuned on. Directions are hand-derived from each scene's camera position: "toward the
camera" is toward the eye, "away" away from it, "left"/"right" across the view. Run the intent
bench with ``python bench/intent_bench.py`` (docs/planner.md has the figures).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.state import WorldState

MOVES = frozenset({"apply_impulse", "apply_force", "set_velocity"})
MAX_PLAUSIBLE_SPEED = 10.0

Check = Callable[[dict[str, Any], WorldState], bool]


@dataclass(frozen=True)
class Expect:
    """What a fair reading of one action looks like."""

    text: str
    """The expectation in words, for --verbose."""
    types: frozenset[str]
    """Event types the plan may contain (empty: the plan must have no events)."""
    key: Check | None = None
    """A check that at least one event must pass."""

    def matches(self, events: list[dict[str, Any]], state: WorldState) -> bool:
        if not self.types:
            return not events
        if not events or any(e.get("type") not in self.types for e in events):
            return False
        return self.key is None or any(self.key(e, state) for e in events)


def velocity_change(event: dict[str, Any], state: WorldState) -> tuple[float, float, float] | None:
    """The velocity a move event gives its body (None for other events or unknown bodies)."""
    kind, body = event.get("type"), state.entities.get(event.get("entity", ""))
    if kind not in MOVES or body is None:
        return None
    if kind == "set_velocity":
        return tuple(event["velocity"])
    mass = body.mass or 1.0
    if kind == "apply_impulse":
        return tuple(x / mass for x in event["impulse"])
    return tuple(x / mass * event.get("duration", 0.0) for x in event["force"])


def move(entity: str, direction: tuple[float, float, float] | None = None, max_speed: float = MAX_PLAUSIBLE_SPEED) -> Check:
    """A move on `entity` with a plausible speed; with `direction`, mostly along it (cos > 0.5)."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        if event.get("entity") != entity:
            return False
        v = velocity_change(event, state)
        if v is None:
            return False
        speed = math.hypot(*v)
        if not 0.05 <= speed <= max_speed:
            return False
        if direction is None:
            return math.hypot(v[0], v[1]) > 0.05
        norm = math.hypot(*direction)
        return sum(a * b for a, b in zip(v, direction)) / (speed * norm) > 0.5

    return check


def spawn(shape: str) -> Check:
    return lambda e, s: e.get("type") == "spawn" and e["entity"].get("shape") == shape


def remove(entity: str) -> Check:
    return lambda e, s: e.get("type") == "remove" and e.get("entity") == entity


def released(entity: str) -> Check:
    return lambda e, s: e.get("type") == "set_property" and e.get("entity") == entity and e.get("fixed") is False


def heavier(entity: str, factor: float = 2.0) -> Check:
    def check(event: dict[str, Any], state: WorldState) -> bool:
        mass = event.get("mass")
        before = state.entities[entity].mass or 1.0
        return (event.get("type") == "set_property" and event.get("entity") == entity
                and mass is not None and mass >= factor * before)

    return check


def coloured(entity: str, channel: int) -> Check:
    """A colour change whose `channel` (0 red, 1 green, 2 blue) clearly leads the other two."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        colour = event.get("color") or ""
        if event.get("type") != "set_property" or event.get("entity") != entity or len(colour) != 7:
            return False
        try:
            rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        except ValueError:
            return False
        return all(rgb[channel] >= rgb[i] + 40 for i in range(3) if i != channel)

    return check


def move_any(entities: list[str], direction=None, max_speed: float = MAX_PLAUSIBLE_SPEED, min_speed: float = 0.05) -> Check:
    """A move on one of `entities` (see :func:`move`), at least `min_speed` fast."""
    checks = [move(e, direction, max_speed) for e in entities]

    def check(event: dict[str, Any], state: WorldState) -> bool:
        v = velocity_change(event, state)
        return any(c(event, state) for c in checks) and v is not None and math.hypot(*v) >= min_speed

    return check


def toward_point(entity: str, point: tuple[float, float], sign: float = 1.0, **kw) -> Check:
    """A move on `entity` toward (sign 1) or away from (sign -1) a floor point, e.g. the camera's eye."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        body = state.entities.get(entity)
        if body is None:
            return False
        d = (sign * (point[0] - body.position[0]), sign * (point[1] - body.position[1]), 0.0)
        return move_any([entity], d, **kw)(event, state)

    return check


def tossed(entity: str) -> Check:
    """A move on `entity` that is mostly upward (at least 0.5 m/s up)."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        v = velocity_change(event, state) if event.get("entity") == entity else None
        return v is not None and v[2] >= 0.5 and v[2] >= 0.7 * math.hypot(*v)

    return check


def stopped(entity: str) -> Check:
    return lambda e, s: (e.get("type") == "set_velocity" and e.get("entity") == entity
                         and math.hypot(*e["velocity"]) < 0.05)


def lighter(entity: str, factor: float = 0.67) -> Check:
    def check(event: dict[str, Any], state: WorldState) -> bool:
        mass = event.get("mass")
        return (event.get("type") == "set_property" and event.get("entity") == entity and mass is not None
                and mass <= factor * state.entities[entity].mass)

    return check


_NAMED = {  # a colour name -> a test on (r, g, b), written independently of the planner's palette
    "red": lambda r, g, b: r >= g + 40 and r >= b + 40, "green": lambda r, g, b: g >= r + 40 and g >= b + 40,
    "blue": lambda r, g, b: b >= r + 40 and b >= g + 40, "yellow": lambda r, g, b: r > 150 and g > 150 and b < 110,
    "white": lambda r, g, b: min(r, g, b) > 200, "black": lambda r, g, b: max(r, g, b) < 70,
    "orange": lambda r, g, b: r > 200 and 80 <= g <= 190 and b < 90, "purple": lambda r, g, b: r > 80 and b > 120 and g < r - 30,
}


def colour_is(entity: str, colour: str) -> Check:
    def check(event: dict[str, Any], state: WorldState) -> bool:
        c = event.get("color") or ""
        if event.get("type") != "set_property" or event.get("entity") != entity or len(c) != 7:
            return False
        return _NAMED[colour](*(int(c[i : i + 2], 16) for i in (1, 3, 5)))

    return check


def spawned(shape: str, on: str | None = None, colour: str | None = None) -> Check:
    """A spawn of `shape`; with `on`, resting on or above that entity's top ('floor': on the floor);
    with `colour`, of that colour."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        if event.get("type") != "spawn" or event["entity"].get("shape") != shape:
            return False
        e = event["entity"]
        if colour and not _NAMED[colour](*(int(e["color"][i : i + 2], 16) for i in (1, 3, 5))):
            return False
        if on == "floor":
            return e["position"][2] < 1.0 and not any(_under(e["position"], b) for b in state.entities.values())
        if on is not None:
            return _under(e["position"], state.entities[on])
        return True

    return check


def thrown_at(shape: str, target: str) -> Check:
    """A spawn of `shape` whose horizontal velocity points at `target` (cos > 0.7)."""

    def check(event: dict[str, Any], state: WorldState) -> bool:
        if not spawned(shape)(event, state):
            return False
        p, v, t = event["entity"]["position"], event["entity"].get("velocity", (0, 0, 0)), state.entities[target].position
        d = (t[0] - p[0], t[1] - p[1])
        n = math.hypot(*d) * math.hypot(v[0], v[1])
        return n > 0 and (d[0] * v[0] + d[1] * v[1]) / n > 0.7

    return check


def _under(p, body) -> bool:
    """Whether point `p` lies over `body` (its box's footprint, half-extents from its size) and above it."""
    size = body.size
    half = [s / 2 for s in size] if body.shape == "box" else [size[0]] * 2
    return (abs(p[0] - body.position[0]) <= half[0] and abs(p[1] - body.position[1]) <= half[1]
            and p[2] > body.position[2])


PROPS = frozenset({"set_property"})
SPAWN = frozenset({"spawn"})
REMOVE = frozenset({"remove"})
STOP = frozenset({"set_velocity"})
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    """One bench action: where, what, which category, and what a fair reading does."""

    scene: str
    """Shipped scene name."""
    action: str
    """The user's words."""
    category: str
    """push, direction, strength, toss_up, stop, release, remove, colour, mass, spawn, reference, unknown, noop."""
    expect: Expect
    """What the plan must do."""
    history: tuple[str, ...] = ()
    """Earlier narrations (for 'it')."""
    setup: tuple[tuple[str, tuple[float, float, float]], ...] = ()
    """(entity, velocity) set, then 0.25 s simulated, before planning (for stop)."""
    unknown: str = ""
    """For unknown referents: the word the narration must say is not there."""


EYE = {  # camera eye on the floor plane, per scene (from the scene files)
    "ball-off-table": (1.6, -2.6), "box-drop": (1.8, -2.4), "tower-knockover": (1.4, -2.8),
    "bowling": (-2.6, -1.0), "domino-chain": (0.7, -1.9), "apple-from-branch": (2.2, -2.8),
}
ML = MOVES | PROPS  # a held body may be released first


def C(scene, action, category, types, key=None, text="", **kw) -> Case:  # noqa: N802
    return Case(scene, action, category, Expect(text or category, frozenset(types), key), **kw)


CASES: list[Case] = [
    # push
    C("ball-off-table", "Someone flicks the ball toward the edge.", "push", MOVES, move("ball")),
    C("box-drop", "Someone slides the mug off the table.", "push", MOVES, move("mug")),
    C("bowling", "A gust of wind knocks over the first pin.", "push", MOVES, move("pin-1")),
    C("bowling", "The bowler releases the ball down the lane.", "push", MOVES, move("ball", (1, 0, 0))),
    C("tower-knockover", "Give the middle block a shove.", "push", MOVES, move_any(["block-4", "block-5"])),
    C("box-drop", "Kick the mug.", "push", MOVES, move("mug")),
    C("domino-chain", "Someone flicks the first domino forward.", "push", ML, released("domino-1")),
    C("apple-from-branch", "A bird knocks the apple sideways.", "push", ML, released("apple")),
    # direction, in two camera frames (bowling and domino-chain look along other axes)
    C("tower-knockover", "A child pushes the top block to the left.", "direction", MOVES, move("block-8", (-1, 0, 0))),
    C("ball-off-table", "Push the ball to the right.", "direction", MOVES, move("ball", (1, 0, 0))),
    C("box-drop", "Push the mug toward the camera.", "direction", MOVES, toward_point("mug", EYE["box-drop"])),
    C("tower-knockover", "Nudge the bottom block away from the camera.", "direction", MOVES,
      toward_point("block-1", EYE["tower-knockover"], -1)),
    C("bowling", "Push the ball to the left.", "direction", MOVES, move("ball", (0, 1, 0))),
    C("bowling", "Push pin 5 toward the camera.", "direction", MOVES, toward_point("pin-5", EYE["bowling"])),
    C("domino-chain", "Push domino 8 away from the viewer.", "direction", MOVES,
      toward_point("domino-8", EYE["domino-chain"], -1)),
    C("apple-from-branch", "Push the apple to the right.", "direction", ML, move("apple", (1, 0, 0))),
    C("ball-off-table", "Roll the ball away from the camera.", "direction", MOVES,
      toward_point("ball", EYE["ball-off-table"], -1)),
    C("box-drop", "Slide the mug to the left.", "direction", MOVES, move("mug", (-1, -0.7, 0))),
    # strength
    C("bowling", "The ball is rolled gently toward the pins.", "strength", MOVES, move("ball", (1, 0, 0), max_speed=4.0)),
    C("ball-off-table", "Tap the ball very gently to the right.", "strength", MOVES, move("ball", (1, 0, 0), max_speed=1.5)),
    C("tower-knockover", "Hit the top block hard to the right.", "strength", MOVES,
      move_any(["block-8"], (1, 0, 0), min_speed=3.0)),
    C("bowling", "Hurl the ball down the lane as hard as you can.", "strength", MOVES,
      move_any(["ball"], (1, 0, 0), min_speed=3.0)),
    C("box-drop", "Give the mug a light nudge away from the camera.", "strength", MOVES,
      toward_point("mug", EYE["box-drop"], -1, max_speed=1.5)),
    # toss up
    C("ball-off-table", "Toss the ball up into the air.", "toss_up", MOVES, tossed("ball")),
    C("tower-knockover", "Throw the top block straight up.", "toss_up", MOVES, tossed("block-8")),
    C("box-drop", "The mug jumps up.", "toss_up", MOVES, tossed("mug")),
    C("bowling", "Flick pin 3 up into the air.", "toss_up", MOVES, tossed("pin-3")),
    # stop (the body is moving when the action comes)
    C("bowling", "Stop the ball.", "stop", STOP, stopped("ball"), setup=(("ball", (4.0, 0.0, 0.0)),)),
    C("ball-off-table", "Catch the ball.", "stop", STOP, stopped("ball"), setup=(("ball", (0.5, 0.0, 0.0)),)),
    C("box-drop", "The mug halts.", "stop", STOP, stopped("mug"), setup=(("mug", (0.0, 0.4, 0.0)),)),
    C("tower-knockover", "Freeze the top block.", "stop", STOP, stopped("block-8"), setup=(("block-8", (0.6, 0.0, 0.0)),)),
    # release
    C("domino-chain", "The finger lets go of the first domino.", "release", PROPS, released("domino-1")),
    C("apple-from-branch", "The apple's stem snaps and it falls.", "release", PROPS | REMOVE, released("apple")),
    C("apple-from-branch", "Release the apple.", "release", PROPS, released("apple")),
    C("domino-chain", "Let the first domino fall.", "release", PROPS, released("domino-1")),
    C("apple-from-branch", "The apple comes loose from the branch.", "release", PROPS, released("apple")),
    # remove
    C("ball-off-table", "Someone removes the ball from the table.", "remove", REMOVE, remove("ball")),
    C("domino-chain", "The last domino is removed.", "remove", REMOVE, remove("domino-14")),
    C("bowling", "Take pin 10 away.", "remove", REMOVE, remove("pin-10")),
    C("tower-knockover", "The top block vanishes.", "remove", REMOVE, remove("block-8")),
    C("box-drop", "Make the mug disappear.", "remove", REMOVE, remove("mug")),
    # colour
    C("ball-off-table", "The red ball turns blue.", "colour", PROPS, colour_is("ball", "blue")),
    C("tower-knockover", "The bottom block is painted red.", "colour", PROPS, colour_is("block-1", "red")),
    C("apple-from-branch", "The apple turns green.", "colour", PROPS, colour_is("apple", "green")),
    C("box-drop", "Paint the mug yellow.", "colour", PROPS, colour_is("mug", "yellow")),
    C("domino-chain", "Colour the last domino purple.", "colour", PROPS, colour_is("domino-14", "purple")),
    C("bowling", "The ball turns orange.", "colour", PROPS, colour_is("ball", "orange")),
    # mass
    C("box-drop", "The mug becomes very heavy.", "mass", PROPS, heavier("mug")),
    C("bowling", "Make the ball twice as heavy.", "mass", PROPS, heavier("ball", 1.9)),
    C("tower-knockover", "The top block becomes as light as a feather.", "mass", PROPS, lighter("block-8", 0.5)),
    C("ball-off-table", "Make the ball lighter.", "mass", PROPS, lighter("ball")),
    C("bowling", "Pin 1 gets much heavier.", "mass", PROPS, heavier("pin-1")),
    # spawn: shapes and places
    C("ball-off-table", "A small wooden cube is placed on the table next to the ball.", "spawn", SPAWN,
      spawned("box", on="table")),
    C("apple-from-branch", "A cardboard box drops onto the table.", "spawn", SPAWN, spawned("box", on="table")),
    C("tower-knockover", "A rubber ball is thrown at the middle of the tower.", "spawn", SPAWN,
      thrown_at("sphere", "block-4")),
    C("box-drop", "Drop a tennis ball on the table.", "spawn", SPAWN, spawned("sphere", on="table")),
    C("domino-chain", "Place a red cylinder on the floor.", "spawn", SPAWN, spawned("cylinder", on="floor", colour="red")),
    C("bowling", "Add another pin next to pin 1.", "spawn", SPAWN, spawned("capsule")),
    C("apple-from-branch", "A green ball appears on the table.", "spawn", SPAWN,
      spawned("sphere", on="table", colour="green")),
    C("tower-knockover", "Put a blue cube on the floor beside the tower.", "spawn", SPAWN,
      spawned("box", on="floor", colour="blue")),
    # ordinals, spatial words, "it"
    C("tower-knockover", "Remove the third block.", "reference", REMOVE, remove("block-3")),
    C("domino-chain", "Paint the right-most domino red.", "reference", PROPS, colour_is("domino-14", "red")),
    C("ball-off-table", "Paint it green.", "reference", PROPS, colour_is("ball", "green"),
      history=("The ball rolls to the left.",)),
    C("tower-knockover", "Push the highest block to the right.", "reference", MOVES, move("block-8", (1, 0, 0))),
    C("bowling", "Remove pin number 7.", "reference", REMOVE, remove("pin-7")),
    # unknown referents: no events, and the narration says so
    C("ball-off-table", "Push the box to the left.", "unknown", NONE, unknown="box"),
    C("tower-knockover", "Paint the red ball green.", "unknown", NONE, unknown="ball"),
    C("domino-chain", "Remove the bowling ball.", "unknown", NONE, unknown="ball"),
    C("apple-from-branch", "Kick the mug.", "unknown", NONE, unknown="mug"),
    C("bowling", "The blue pin turns red.", "unknown", NONE, unknown="pin"),
    # no-ops
    C("apple-from-branch", "Nothing happens; the wind is calm.", "noop", NONE),
    C("ball-off-table", "Wait.", "noop", NONE),
    C("tower-knockover", "The tower stands still.", "noop", NONE),
    C("bowling", "The pins settle.", "noop", NONE),
    C("domino-chain", "Nothing happens for a moment.", "noop", NONE),
]

HELDOUT: list[Case] = [
    C("ball-off-table", "Bump the ball so it rolls toward the viewer.", "direction", MOVES,
      toward_point("ball", EYE["ball-off-table"])),
    C("box-drop", "Shove the cup off the edge.", "push", MOVES, move("mug")),
    C("tower-knockover", "Knock the fourth block out to the left.", "direction", MOVES, move("block-4", (-1, 0, 0))),
    C("bowling", "Send the bowling ball at the pins, hard.", "strength", MOVES, move_any(["ball"], (1, 0, 0), min_speed=3.0)),
    C("domino-chain", "Tip over the first domino.", "push", ML, released("domino-1")),
    C("apple-from-branch", "The apple drops off the branch.", "release", PROPS, released("apple")),
    C("ball-off-table", "Get rid of the ball.", "remove", REMOVE, remove("ball")),
    C("bowling", "Pin 4 disappears.", "remove", REMOVE, remove("pin-4")),
    C("tower-knockover", "Turn the top block white.", "colour", PROPS, colour_is("block-8", "white")),
    C("box-drop", "The mug is now black.", "colour", PROPS, colour_is("mug", "black")),
    C("apple-from-branch", "The apple weighs ten times more.", "mass", PROPS, heavier("apple", 5.0)),
    C("bowling", "The ball loses weight.", "mass", PROPS, lighter("ball")),
    C("box-drop", "A bottle appears on the table.", "spawn", SPAWN, spawned("cylinder", on="table")),
    C("ball-off-table", "Throw a marble at the ball.", "spawn", SPAWN, thrown_at("sphere", "ball")),
    C("bowling", "Bounce the ball up.", "toss_up", MOVES, tossed("ball")),
    C("ball-off-table", "The ball comes to a stop.", "stop", STOP, stopped("ball"), setup=(("ball", (0.5, 0.0, 0.0)),)),
    C("box-drop", "Push the chair.", "unknown", NONE, unknown="chair"),
    C("tower-knockover", "Everything stays as it is.", "noop", NONE),
    C("domino-chain", "Remove the second domino.", "reference", REMOVE, remove("domino-2")),
    C("tower-knockover", "Remove it.", "reference", REMOVE, remove("block-8"),
      history=("The top block slides to the left.",)),
]

EXPECT = {c.action: c.expect for c in CASES}
"""Expectation by action text (bench/planner.py's 20 actions are among the cases)."""
