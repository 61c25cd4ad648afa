"""The plan the left brain returns for one turn, and the JSON Schema that constrains its decoding."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.planner.narration.describe import caption_for
from simulator.limits import LIMITS
from simulator.scene import Event
from simulator.state import WorldState

PLAN_SCHEMA_VERSION = 1
NARRATION_MAX = 300
CAPTION_MAX = 500

# Bounds for the decoding schema only: a small model fills every string it may, so every free
# string and array gets a tight bound, and the JSON always closes within max_tokens.
DECODE_ID_MAX = 24
DECODE_TEXT_MAX = 120
DECODE_NARRATION_MAX = 160
DECODE_CAPTION_MAX = 240
DECODE_MAX_EVENTS = 3
_MOVES = ("apply_impulse", "apply_force", "set_velocity")


class TurnPlan(BaseModel):
    """What happens this turn: events for physics, words for people, a caption for the video model."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PLAN_SCHEMA_VERSION
    """Plan format version."""
    narration: str = Field(default="", max_length=NARRATION_MAX)
    """What happens, in prose: one or two sentences in the present tense."""
    events: list[Event] = Field(default_factory=list, max_length=LIMITS.max_events_per_step)
    """Physical events to apply at the start of the turn, in order (the simulator's event vocabulary)."""
    caption: str = Field(default="", max_length=CAPTION_MAX)
    """A detailed visual description of the coming segment for the video renderer: each visible
    entity's appearance, its motion, and the camera."""


def pinned_plan(state: WorldState, action: str, events: Sequence[Event | dict]) -> TurnPlan:
    """The plan for events given by the user (or a scene file), played as written: the action
    (bounded) is the narration, and the caption describes the world."""
    action = action[:NARRATION_MAX]
    return TurnPlan(narration=action, events=list(events), caption=caption_for(state, action))


def plan_json_schema(entity_ids: list[str] | None = None, free_ids: list[str] | None = None) -> dict[str, Any]:
    """The JSON Schema that constrains decoding, derived from :class:`TurnPlan`.

    Every string and array is bounded, unions are ``anyOf`` (portable across llama.cpp, vLLM and
    OpenAI), ``schema_version`` is left to the code, and all three fields are required in the
    order narration, events, caption. With `entity_ids`, the ids that events refer to are limited
    to those names (a spawn's own id stays free); with `free_ids`, the ids that impulses, forces and
    velocities refer to are limited to those (when none is free, those events are left out).
    """
    full = TurnPlan.model_json_schema()
    defs = full.get("$defs", {})
    schema = _inline(full, defs)
    props = schema["properties"]
    props.pop("schema_version", None)
    schema["required"] = ["narration", "events", "caption"]
    schema["properties"] = {k: props[k] for k in schema["required"]}
    schema["additionalProperties"] = False
    schema.pop("title", None)
    _bound(schema)
    props = schema["properties"]
    props["narration"]["maxLength"] = DECODE_NARRATION_MAX
    props["caption"]["maxLength"] = DECODE_CAPTION_MAX
    props["events"]["maxItems"] = DECODE_MAX_EVENTS
    variants = props["events"]["items"]["anyOf"]
    kept = []
    for variant in variants:
        kind = variant["properties"]["type"]["const"]
        ids = free_ids if (kind in _MOVES and free_ids is not None) else entity_ids
        if kind != "spawn" and ids is not None:
            if not ids:
                continue
            variant["properties"]["entity"] = {"type": "string", "enum": list(ids)}
        kept.append(variant)
    props["events"]["items"]["anyOf"] = kept
    return schema


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]), defs)
        out = {}
        for key, value in node.items():
            if key in ("$defs", "discriminator"):
                continue
            out["anyOf" if key == "oneOf" else key] = _inline(value, defs)
        return out
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _bound(node: Any, key: str = "") -> None:
    """Tighten strings and arrays in place; ids get a bounded pattern (patterns override maxLength)."""
    if isinstance(node, list):
        for v in node:
            _bound(v, key)
        return
    if not isinstance(node, dict):
        return
    node.pop("title", None)
    if node.get("type") == "string" and "const" not in node and "enum" not in node:
        pattern = node.get("pattern")
        if key == "color":
            node["pattern"] = "^#[0-9a-f]{6}$"
        elif pattern and pattern.endswith("+$"):
            node["pattern"] = re.sub(r"\+\$$", f"{{1,{DECODE_ID_MAX}}}$", pattern)
            node["maxLength"] = DECODE_ID_MAX
        elif key == "entity":
            node["maxLength"] = DECODE_ID_MAX
        elif key not in ("narration", "caption"):
            node["maxLength"] = min(node.get("maxLength", DECODE_TEXT_MAX), DECODE_TEXT_MAX)
    if node.get("type") == "array" and "prefixItems" not in node and key == "size":
        node["minItems"], node["maxItems"] = 1, 3
    for name, sub in node.get("properties", {}).items():
        options = sub.get("anyOf", [])
        if name not in node.get("required", []) and {"type": "null"} in options:
            # An optional field is either left out or given a value: a model that may write null
            # writes every field, each one a chance to change something the action never mentioned.
            rest = [o for o in options if o != {"type": "null"}]
            sub.pop("anyOf")
            sub.pop("default", None)
            sub.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    for k, v in node.items():
        if k == "properties":
            for name, sub in v.items():
                _bound(sub, name)
        elif isinstance(v, (dict, list)):
            _bound(v, key)
