"""Intents by constrained generation, for models that write rather than score (OpenAI-compatible
servers, vLLM): a JSON Schema whose enums come from grounding, a short prompt, and the merge in
which slots the words state outright win over the model's.
"""

from __future__ import annotations

import json
from typing import Any

from agent.planner.words.grounding import Grounding
from agent.planner.words.intent import COLOURS, DIRECTION_MEANING, DIRECTIONS, SPAWN_SHAPES, STRENGTHS, VERB_MEANING, VERBS, Intent
from simulator.state import WorldState

NONE = "none"
KEYS = ("verb", "target", "direction", "strength", "colour", "shape", "place", "amount", "noun")

SYSTEM = (
    "You read one action in a physics scene and reply with its intent as JSON, choosing every value "
    "from the allowed lists; no numbers except amount.\nVerbs:\n"
    + "\n".join(f"- {v}: {m}" for v, m in VERB_MEANING.items())
    + "\nDirections (camera terms):\n" + "\n".join(f"- {d}: {m}" for d, m in DIRECTION_MEANING.items())
    + "\ntarget: the id acted on (for spawn: what it is thrown at or placed next to). place: for spawn the "
    "support id or 'floor'; for direction at/along the id aimed at. amount: the mass factor for "
    "heavier/lighter, or how many bodies to spawn. noun: for spawn, the words naming the new body. "
    "Use \"none\" for slots that do not apply."
)
_EXAMPLE_WORLD = "- crate: a wooden crate (box, held)\n- cup: a blue plastic cup (cylinder, free)"
_EXAMPLES = [
    ("Knock the cup to the left.", {"verb": "push", "target": "cup", "direction": "left"}),
    ("A tennis ball drops onto the crate.", {"verb": "spawn", "target": NONE, "direction": "down", "shape": "sphere",
                                             "place": "crate", "noun": "tennis ball"}),
    ("The cup turns red.", {"verb": "recolor", "target": "cup", "colour": "red"}),
]


def _full(partial: dict[str, Any]) -> dict[str, Any]:
    out = {k: NONE for k in KEYS}
    out.update(strength="normal", amount=1, noun="")
    out.update(partial)
    return out


def world_lines(state: WorldState) -> str:
    return "\n".join(f"- {eid}: {e.description or e.shape} ({e.shape}, {'held' if e.fixed else 'free'})"
                     for eid, e in state.entities.items())


def messages(state: WorldState, action: str, history: list[str]) -> list[dict[str, str]]:
    """System text, three worked examples, then this world and action."""
    msgs = [{"role": "system", "content": SYSTEM}]
    for i, (act, partial) in enumerate(_EXAMPLES):
        world = f"World:\n{_EXAMPLE_WORLD}\n" if i == 0 else ""
        msgs.append({"role": "user", "content": f"{world}Action: {act}"})
        msgs.append({"role": "assistant", "content": json.dumps(_full(partial))})
    recent = "".join(f"- {h}\n" for h in history[-3:] if h)
    msgs.append({"role": "user", "content": f"World:\n{world_lines(state)}\n"
                                            + (f"Recent turns:\n{recent}" if recent else "") + f"Action: {action}"})
    return msgs


def schema(state: WorldState, g: Grounding) -> dict[str, Any]:
    """The decoding schema: every slot an enum; targets limited to what the words name (when they
    name anything), places to the ids and the floor."""
    ids = list(state.entities)
    targets = (g.candidates or ids) + [NONE]
    enum = lambda values: {"type": "string", "enum": list(dict.fromkeys(values))}  # noqa: E731
    props = {
        "verb": enum(VERBS), "target": enum(targets), "direction": enum(list(DIRECTIONS) + [NONE]),
        "strength": enum(STRENGTHS), "colour": enum(list(COLOURS) + [NONE]),
        "shape": enum(list(SPAWN_SHAPES) + [NONE]), "place": enum(ids + ["floor", NONE]),
        "amount": {"type": "number", "minimum": 1, "maximum": 20}, "noun": {"type": "string", "maxLength": 40},
    }
    return {"type": "object", "properties": props, "required": list(KEYS), "additionalProperties": False}


def parse(raw: str) -> Intent:
    """The model's JSON as an Intent ('none' -> None, amount 1 -> None); ValueError when it is not one."""
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"an intent is a JSON object, got {type(data).__name__}")
    clean = {k: (None if v == NONE else v) for k, v in data.items() if k in KEYS}
    if clean.get("amount") in (None, 1, 1.0) and clean.get("verb") not in ("heavier", "lighter"):
        clean["amount"] = None
    clean["noun"] = clean.get("noun") or ""
    clean["strength"] = clean.get("strength") or "normal"
    return Intent.model_validate(clean)


def merge(generated: Intent, lex: Intent | None, lex_decided_by: dict[str, str]) -> tuple[Intent, dict[str, str]]:
    """The generated intent, with every slot the words state outright (`lex_decided_by` says
    'lexicon') taken from the lexicon's intent `lex` instead, when both read the same verb."""
    by = {k: "generation" for k in KEYS if k != "noun"}
    slots = generated.model_dump(exclude={"schema_version"})
    stated = {k for k, v in lex_decided_by.items() if v == "lexicon" and k != "verb"}
    if lex is not None and lex.verb == generated.verb:
        for key in stated:
            if getattr(lex, key, None) is not None:
                slots[key] = getattr(lex, key)
                by[key] = "lexicon"
    return Intent.model_validate(slots), by
