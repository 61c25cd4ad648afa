"""The scene intent: what a prompt asks the world to contain, typed, before anything is placed.

The grammar reader (:mod:`agent.worlds.reader`) and a language model (:mod:`agent.worlds.model_reader`)
both write one; the layout compiler (:mod:`agent.worlds.layout`) builds a scene from it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCENE_INTENT_VERSION = 1
MAX_COUNT = 12
"""Most copies of one thing a prompt may ask for ("a dozen")."""

RelationKind = Literal["on", "in", "next_to", "in_front_of", "behind", "under", "stacked", "in_a_row", "around",
                       "leaning_on"]
RELATIONS: tuple[str, ...] = ("on", "in", "next_to", "in_front_of", "behind", "under", "stacked", "in_a_row", "around",
                              "leaning_on")
Ground = Literal["floor", "grass", "snow", "sand", "ice", "wood", "concrete", "carpet", "dirt"]
Lighting = Literal["day", "night", "indoors", "sunset"]
Verb = Literal["push", "kick", "roll", "drop", "knock_over"]
Direction = Literal["left", "right", "forward", "back", "toward"]


class Thing(BaseModel):
    """One kind of thing the prompt names, with how many."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(pattern=r"^[a-z0-9-]+$", max_length=40)
    """A name unique in the intent ('ball', 'ball-2'): relations point at it; ids are made from it."""
    template: str
    """The template it is built from (simulator/templates: table, ball, crate, ...)."""
    count: int = Field(default=1, ge=1, le=MAX_COUNT)
    """How many copies."""
    material: str | None = None
    """A material name (wood, metal, rubber, glass, ice, plastic, ...), or the template's default."""
    color: str | None = None
    """A colour word ('red') or '#rrggbb', or the template's (material's) colour."""
    scale: float = Field(default=1.0, ge=0.2, le=5.0)
    """Size relative to the template's real size ('big' 1.6, 'small' 0.6)."""
    params: dict[str, float] = {}
    """Template parameters the words set ("three steps": count 3), before `scale`."""
    noun: str = Field(default="", max_length=60)
    """The everyday object it is (from agent/knowledge/objects.yaml), when it is built from a primitive
    template at that object's real size ("lemon" as a sphere); '' for a template's own thing."""
    words: str = ""
    """The words that named it, as written."""


class Relation(BaseModel):
    """How a thing is arranged: on, in, next to, ... another thing (or, for rows and stacks, alone)."""

    model_config = ConfigDict(extra="forbid")

    kind: RelationKind
    """The arrangement; in_front_of and behind are as seen from the camera; under: on the floor
    beneath the object."""
    subject: str
    """The ref of the thing placed."""
    object: str | None = None
    """The ref of the thing it is placed against (None for in_a_row and stacked)."""


class FirstAction(BaseModel):
    """What happens first, when the prompt says."""

    model_config = ConfigDict(extra="forbid")

    verb: Verb
    """push, kick, roll (a shove along the floor or support), drop (held up, then let go), knock_over."""
    target: str
    """The ref of the thing acted on (its first copy)."""
    direction: Direction | None = None
    """Screen direction, or 'toward' the `toward` thing; right when not said."""
    toward: str | None = None
    """The ref of the thing it moves toward."""
    words: str = ""
    """The words that said it."""


class SceneIntent(BaseModel):
    """Everything a prompt asks of a new world."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCENE_INTENT_VERSION
    """Format version."""
    prompt: str
    """The prompt as given."""
    things: list[Thing] = []
    """The things to build, in the order named (the first is the subject unless an action names one)."""
    relations: list[Relation] = []
    """How they are arranged."""
    ground: Ground = "floor"
    """What the floor is."""
    lighting: Lighting = "day"
    """Light: day, night, indoors or sunset."""
    action: FirstAction | None = None
    """The first thing that happens, if any."""
    renderer_only: list[str] = []
    """Words the physics cannot represent (water, smoke, cloth, glow, breaking): for the video only."""
    unknown: list[str] = []
    """Things named that the catalogue does not know (nothing is built for them)."""
    assumptions: list[str] = []
    """What was assumed where the words did not say."""
