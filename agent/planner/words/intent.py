"""The typed intent: what the action asks for, in a closed vocabulary, with no physical numbers.

The left brain decides *what* happens (an :class:`Intent`); :mod:`agent.planner.cerebellum.compiler` decides
*how much* (impulses, positions, masses). Every slot is a closed set or an entity id, so a small
model can only choose among meanings, never invent a number.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.knowledge.colours import hex_for

INTENT_SCHEMA_VERSION = 1

Verb = Literal["push", "toss_up", "stop", "release", "remove", "recolor", "heavier", "lighter", "spawn", "nothing"]
VERBS: tuple[str, ...] = Verb.__args__  # type: ignore[attr-defined]

VERB_MEANING = {
    "push": "push, kick, flick, roll, knock or throw an existing body sideways",
    "toss_up": "toss an existing body up into the air",
    "stop": "stop a moving body",
    "release": "let a held (fixed) body go so that it falls",
    "remove": "make a body disappear",
    "recolor": "paint a body a new colour",
    "heavier": "make a body heavier",
    "lighter": "make a body lighter",
    "spawn": "a new body appears, is placed, dropped or thrown in",
    "nothing": "nothing physical happens",
}

Direction = Literal["left", "right", "toward", "away", "up", "down", "forward", "back", "at", "off", "along"]
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]
DIRECTION_MEANING = {
    "left": "left on screen",
    "right": "right on screen",
    "toward": "toward the camera (the viewer)",
    "away": "away from the camera",
    "up": "straight up",
    "down": "straight down",
    "forward": "along the row the body stands in (away from the camera when it stands alone)",
    "back": "the opposite of forward",
    "at": "toward the `place` entity",
    "off": "toward the nearest edge of what the body rests on",
    "along": "along the long side of the `place` entity, toward its far end",
}

Strength = Literal["gentle", "normal", "hard"]
STRENGTHS: tuple[str, ...] = Strength.__args__  # type: ignore[attr-defined]

SpawnShape = Literal["box", "sphere", "cylinder", "capsule"]
SPAWN_SHAPES: tuple[str, ...] = SpawnShape.__args__  # type: ignore[attr-defined]

Colour = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey",
                 "cyan", "beige", "gold", "silver"]
COLOURS: dict[str, str] = {name: hex_for(name) for name in Colour.__args__}  # type: ignore[attr-defined]
"""The plain colour words an intent may use, with the hex value the compiler writes: read from the one
colour table (agent/knowledge/colours.yaml)."""

MAX_SPAWN_COUNT = 12
"""Most new bodies one spawn intent makes ("a dozen grapes")."""


class Intent(BaseModel):
    """One action's meaning: a verb from a closed set and the slots it needs (ids, words, no numbers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = INTENT_SCHEMA_VERSION
    """Intent format version."""
    verb: Verb
    """What happens: push (also kick, roll, throw), toss_up, stop, release, remove, recolor, heavier,
    lighter, spawn or nothing."""
    target: str | None = None
    """Id of the existing entity acted on; for spawn, the body the new one is thrown at or placed
    next to (optional); None for nothing."""
    direction: Direction | None = None
    """Which way a push or throw goes, in camera terms (left/right on screen, toward/away from the
    viewer), or relative to the scene (at `place`, off the support, along `place`); None lets the
    compiler choose."""
    strength: Strength = "normal"
    """How hard: gentle, normal or hard; the compiler turns it into a speed."""
    colour: Colour | None = None
    """For recolor (required) and spawn (optional): a colour name."""
    shape: SpawnShape | None = None
    """For spawn: the new body's primitive shape."""
    place: str | None = None
    """An entity id: for spawn, the support it appears on or above ('floor' for the ground); for
    push with direction 'at' or 'along', the entity aimed at or moved along."""
    amount: float | None = Field(default=None, gt=0, le=20)
    """For heavier/lighter: the mass factor (> 1; 3 when omitted). For spawn: how many bodies
    (1 to 12; 1 when omitted)."""
    noun: str = Field(default="", max_length=60)
    """For spawn: the words naming the new body, e.g. 'small wooden cube' (used for its id,
    size, material and description)."""
