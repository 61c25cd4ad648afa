"""The planner's prompts, versioned in one place so they can be improved and compared.

A prompt version is a system text, one worked example (a user turn and the model's JSON reply),
and the layout of the user turn. Bump ``PROMPT_VERSION`` when any of them changes: plan records
carry it, so runs made with different prompts can be told apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.describe import world_text
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


def user_text(state: WorldState | str, action: str, history: Sequence[str]) -> str:
    world = state if isinstance(state, str) else world_text(state)
    lines = ["World:", world]
    recent = [h for h in history if h][-HISTORY_TURNS:]
    if recent:
        lines += ["Recent turns:"] + [f"- {h}" for h in recent]
    lines += [f"Action: {action}", "Plan as JSON:"]
    return "\n".join(lines)


def build_messages(state: WorldState, action: str, history: Sequence[str]) -> list[dict[str, str]]:
    """The chat messages for one turn: system, the worked example, then this world and action."""
    return [
        {"role": "system", "content": SYSTEM_V1},
        {"role": "user", "content": user_text(EXAMPLE_WORLD_V1, EXAMPLE_ACTION_V1, [])},
        {"role": "assistant", "content": json.dumps(EXAMPLE_PLAN_V1)},
        {"role": "user", "content": user_text(state, action, history)},
    ]


def retry_messages(raw: str, problems: Sequence[str]) -> list[dict[str, str]]:
    """What goes back to the model after a rejected plan: its reply, then the reasons."""
    text = "\n".join(f"- {p}" for p in problems[:8])
    return [
        {"role": "assistant", "content": raw[:2000]},
        {"role": "user", "content": RETRY_V1.format(problems=text)},
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
