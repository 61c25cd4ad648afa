"""The planner's prompts, versioned in one place so they can be improved and compared.

A prompt version is a system text, worked examples (user turns and the model's JSON replies), the
layout of the user turn, and the retry text. Add a new version rather than changing one: plan
records carry the version, so runs made with different prompts can be told apart.

- ``v1`` (default): long system text and one worked example (an impulse), which small models copy.
- ``v2``: short system text and seven short examples, one per kind of event plus one with no
  events, in a world whose ids appear in no scene; the action comes last and is restated. Small
  models copy the first example's event type instead (docs/planner.md has the measurements).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from agent.planner.narration.describe import world_text
from simulator.state import WorldState

PROMPT_VERSION = "v1"
HISTORY_TURNS = 3

SYSTEM_V1 = """\
You plan one turn of a physics simulation. Read the world and the action, then reply with one JSON \
object: {"narration": ..., "events": [...], "caption": ...}.

Events (0 to 4; use [] when nothing physical happens; "entity" must be an id from the world):
- apply_impulse {entity, impulse: [x, y, z] N*s}: a kick or flick. Speed change = impulse / mass; \
keep it 0.5 to 5 m/s (a 0.2 kg ball: impulse 0.1 to 1).
- apply_force {entity, force: [x, y, z] N, duration: s}: a steady push. Acceleration = force / mass; \
keep it under 20 m/s^2, duration 0.1 to 2 s.
- set_velocity {entity, velocity: [x, y, z] m/s}: set the speed outright, at most 5 m/s.
- spawn {entity: {id, shape, size, position: [x, y, z], color: "#rrggbb", mass, description}}: a new \
body with a new id, not overlapping others. shape: box (size = [x, y, z] full extents in m), sphere \
([radius]), cylinder or capsule ([radius, length]). mass in kg.
- remove {entity}: the body disappears.
- set_property {entity, color?, mass?, friction?, fixed?, description?}: change properties; \
"fixed": false releases a held body so it falls.
Fixed bodies cannot be kicked or pushed. Directions: +x is right, -x left, +y away from the camera, \
-y toward it, +z up. Gravity pulls down at 9.81 m/s^2.
narration: one or two short sentences, present tense. caption: what the camera sees next: each \
visible thing's look and motion, and the camera view."""

EXAMPLE_WORLD_V1 = """\
t = 0.00 s. Entities (x right, y away from camera, z up; floor at z = 0):
- crate: box 0.40 x 0.40 x 0.40 m, 64.00 kg, fixed, at (0.00, 0.00, 0.20), still, brown #8b5a2b, \
"a wooden crate"
- cube: box 0.10 x 0.10 x 0.10 m, 1.00 kg, free, at (0.00, 0.00, 0.45), still, blue #2a5bd7, \
"a small blue plastic cube"
Relations: crate rests on the floor; cube is on top of crate (touching)."""

EXAMPLE_ACTION_V1 = "Someone knocks the cube off to the right."

EXAMPLE_PLAN_V1 = {
    "narration": "A hand knocks the blue cube off the crate to the right.",
    "events": [{"type": "apply_impulse", "entity": "cube", "impulse": [2.0, 0.0, 0.5]}],
    "caption": "A small blue plastic cube slides off a wooden crate to the right and tumbles onto "
    "the floor; static camera, daylight.",
}

RETRY_V1 = """\
Your plan was rejected:
{problems}
Reply with a corrected JSON plan for the same action."""


SYSTEM_V2 = """\
You turn an action into physics events. Reply with JSON: {"narration", "events", "caption"}.
Events ("entity" is an id from the world):
- apply_impulse {entity, impulse: [x, y, z]}: a kick, flick, push or throw; speed = impulse / mass, 0.5 to 5 m/s.
- apply_force {entity, force: [x, y, z], duration}: a steady push or wind.
- set_velocity {entity, velocity: [x, y, z]}: set the speed, m/s.
- set_property {entity, color, mass, friction, fixed}: a new colour ("#rrggbb"), weight or grip; \
"fixed": false lets a held body go.
- spawn {entity: {id, shape, size, position, color, mass, description}}: a new body appears.
- remove {entity}: a body disappears.
Use [] when nothing physical happens. Fixed bodies cannot be pushed. +x is right, -x left, +y away, \
+z up. Pick the event that matches the action's verb; never add events the action does not ask for."""

EXAMPLE_WORLD_V2 = """\
t = 0.00 s. Entities (x right, y away, z up, floor z = 0):
- shelf: white box 0.80 x 0.30 x 0.04 m, fixed, at (0.00, 0.30, 1.00), "a white wall shelf"
- vase: blue cylinder radius 0.06 m, length 0.20 m, 0.4 kg, free, at (0.20, 0.30, 1.12), "a blue glass vase"
- lamp: yellow sphere radius 0.10 m, fixed, at (-0.50, 0.00, 1.80), "a paper lamp on a cord"
- toy-car: red box 0.20 x 0.10 x 0.08 m, 0.5 kg, free, at (0.40, -0.20, 0.04), "a red toy car"
Relations: toy-car is on the floor; vase is on top of shelf."""


def _ex(action: str, narration: str, events: list[dict], caption: str) -> tuple[str, dict]:
    return action, {"narration": narration, "events": events, "caption": caption}


EXAMPLES_V2 = [
    _ex("The vase is painted yellow.", "The vase turns yellow.",
        [{"type": "set_property", "entity": "vase", "color": "#f0d228"}],
        "A yellow glass vase stands on a white shelf."),
    _ex("Someone kicks the toy car to the left.", "The toy car shoots off to the left.",
        [{"type": "apply_impulse", "entity": "toy-car", "impulse": [-1.0, 0.0, 0.0]}],
        "A red toy car rolls left across the floor."),
    _ex("The lamp's cord breaks.", "The lamp drops from its cord.",
        [{"type": "set_property", "entity": "lamp", "fixed": False}],
        "A paper lamp falls to the floor."),
    _ex("A tennis ball falls onto the shelf.", "A tennis ball drops onto the shelf.",
        [{"type": "spawn", "entity": {"id": "tennis-ball", "shape": "sphere", "size": [0.033],
                                       "position": [-0.2, 0.3, 1.3], "color": "#c8e03c", "mass": 0.06,
                                       "description": "a fuzzy tennis ball"}}],
        "A tennis ball bounces on a white shelf."),
    _ex("The room stays quiet.", "Nothing moves.", [], "A vase on a shelf and a toy car on the floor, still."),
    _ex("The vase vanishes.", "The vase disappears.", [{"type": "remove", "entity": "vase"}],
        "An empty white shelf."),
    _ex("The toy car becomes as heavy as a brick.", "The toy car grows very heavy.",
        [{"type": "set_property", "entity": "toy-car", "mass": 3.0}],
        "A red toy car sits on the floor."),
]

RETRY_V2 = """\
That plan was rejected:
{problems}
Reply with a corrected JSON plan for the same action."""


@dataclass(frozen=True)
class Prompt:
    """One prompt version."""

    version: str
    system: str
    examples: list[tuple[str, str, dict]]
    """(world text or '' to reuse the previous world, action, plan) per worked example."""
    restate: bool
    """Whether the user turn ends by restating the action."""
    retry: str


PROMPTS = {
    "v1": Prompt("v1", SYSTEM_V1, [(EXAMPLE_WORLD_V1, EXAMPLE_ACTION_V1, EXAMPLE_PLAN_V1)], False, RETRY_V1),
    "v2": Prompt("v2", SYSTEM_V2, [(EXAMPLE_WORLD_V2 if i == 0 else "", a, p) for i, (a, p) in enumerate(EXAMPLES_V2)],
                 True, RETRY_V2),
}


def get_prompt(version: str = PROMPT_VERSION) -> Prompt:
    try:
        return PROMPTS[version]
    except KeyError:
        raise ValueError(f"unknown prompt version {version!r}; choose one of {', '.join(PROMPTS)}") from None


def user_text(state: WorldState | str, action: str, history: Sequence[str], restate: bool = False) -> str:
    world = state if isinstance(state, str) else world_text(state)
    lines = ["World:", world] if world else []
    recent = [h for h in history if h][-HISTORY_TURNS:]
    if recent:
        lines += ["Recent turns:"] + [f"- {h}" for h in recent]
    lines.append(f"Action: {action}")
    lines.append(f"Plan for \"{action}\" as JSON:" if restate else "Plan as JSON:")
    return "\n".join(lines)


def build_messages(state: WorldState, action: str, history: Sequence[str],
                   version: str = PROMPT_VERSION) -> list[dict[str, str]]:
    """The chat messages for one turn: system, the worked examples, then this world and action."""
    prompt = get_prompt(version)
    messages = [{"role": "system", "content": prompt.system}]
    for world, example_action, plan in prompt.examples:
        messages.append({"role": "user", "content": user_text(world, example_action, [], prompt.restate)})
        messages.append({"role": "assistant", "content": json.dumps(plan)})
    messages.append({"role": "user", "content": user_text(state, action, history, prompt.restate)})
    return messages


def retry_messages(raw: str, problems: Sequence[str], version: str = PROMPT_VERSION) -> list[dict[str, str]]:
    """What goes back to the model after a rejected plan: its reply, then the reasons."""
    text = "\n".join(f"- {p}" for p in problems[:8])
    return [
        {"role": "assistant", "content": raw[:2000]},
        {"role": "user", "content": get_prompt(version).retry.format(problems=text)},
    ]
def completion_prompt(messages: Sequence[dict[str, str]]) -> str:
    """The same conversation as plain few-shot text, for base models without a chat template."""
    parts = []
    for m in messages:
        if m["role"] == "system":
            parts.append(m["content"] + "\n")
        elif m["role"] == "assistant":
            parts.append(m["content"] + "\n")
        else:
            parts.append(m["content"])
    return "\n".join(parts) + " "
