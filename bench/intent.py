"""Hand-written expectations for the planner bench: does a plan do what its action asks?

Each expectation names the event types the action may use and one check that some event must
pass (the key event). Every event in the plan must be of an allowed type, so a plan that adds an
unasked-for kick to a colour change does not match. Moves (impulse, force, velocity) are judged
by the velocity they give: its direction, and a speed that stays plausible (at most 10 m/s).
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


PROPS = frozenset({"set_property"})
SPAWN = frozenset({"spawn"})
REMOVE = frozenset({"remove"})
NONE: frozenset[str] = frozenset()

EXPECT = {
    "Someone flicks the ball toward the edge.": Expect(
        "a sideways move on ball", MOVES, move("ball")),
    "The red ball turns blue.": Expect(
        "set_property ball to a blue colour", PROPS, coloured("ball", 2)),
    "A small wooden cube is placed on the table next to the ball.": Expect(
        "spawn a box", SPAWN, spawn("box")),
    "Someone removes the ball from the table.": Expect(
        "remove ball", REMOVE, remove("ball")),
    "A cardboard box drops onto the table.": Expect(
        "spawn a box", SPAWN, spawn("box")),
    "Someone slides the mug off the table.": Expect(
        "a sideways move on mug", MOVES, move("mug")),
    "The mug becomes very heavy.": Expect(
        "set_property mug mass >= 2x", PROPS, heavier("mug")),
    "A child pushes the top block to the left.": Expect(
        "a move on block-8 toward -x", MOVES, move("block-8", (-1, 0, 0))),
    "A rubber ball is thrown at the middle of the tower.": Expect(
        "spawn a sphere", SPAWN, spawn("sphere")),
    "The bottom block is painted red.": Expect(
        "set_property block-1 to a red colour", PROPS, coloured("block-1", 0)),
    "The bowler releases the ball down the lane.": Expect(
        "a move on ball toward +x", MOVES, move("ball", (1, 0, 0))),
    "A gust of wind knocks over the first pin.": Expect(
        "a sideways move on pin-1", MOVES, move("pin-1")),
    "The ball is rolled gently toward the pins.": Expect(
        "a move on ball toward +x, at most 4 m/s", MOVES, move("ball", (1, 0, 0), max_speed=4.0)),
    "The finger lets go of the first domino.": Expect(
        "set_property domino-1 fixed false", PROPS, released("domino-1")),
    "Someone flicks the first domino forward.": Expect(
        "release domino-1 (it is held, so it cannot be pushed)", PROPS | MOVES, released("domino-1")),
    "The last domino is removed.": Expect(
        "remove domino-14", REMOVE, remove("domino-14")),
    "The apple's stem snaps and it falls.": Expect(
        "release apple (removing the stem too is fine)", PROPS | REMOVE, released("apple")),
    "A bird knocks the apple sideways.": Expect(
        "release apple (it is held, so it cannot be pushed)", PROPS | MOVES, released("apple")),
    "The apple turns green.": Expect(
        "set_property apple to a green colour", PROPS, coloured("apple", 1)),
    "Nothing happens; the wind is calm.": Expect(
        "no events", NONE),
}
