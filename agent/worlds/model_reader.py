"""The model's part: a language model writes the scene intent under a JSON Schema whose enums come
from the catalogue (templates, materials, colours, relations); the compiler then checks and places it.

Used with ``--planner openai`` (vLLM, llama.cpp's server, any OpenAI-compatible server)."""

from __future__ import annotations

import json

from pydantic import ValidationError

from agent.planner import COLOURS, Backend, BackendError, PlanRequest
from agent.worlds import intent as I
from agent.worlds.reader import read_prompt
from simulator.materials import materials
from simulator.templates import templates

SYSTEM = """You turn a description of a scene into JSON for a physics simulator.
List the things (each from the template list, with a count), how they are arranged (relations between
things by their ref), the ground, the lighting, and the first action if the description says one.
Liquids, smoke, fire, cloth, light effects and breaking cannot be simulated: list those words in
renderer_only, do not make things for them. Use only the enums given. Reply with JSON only."""

EXAMPLE_PROMPT = "two red balls on a wooden table next to a crate, at night"
EXAMPLE_REPLY = {
    "things": [{"ref": "ball", "template": "ball", "count": 2, "material": None, "color": "red", "scale": 1.0},
               {"ref": "table", "template": "table", "count": 1, "material": "wood", "color": None, "scale": 1.0},
               {"ref": "crate", "template": "crate", "count": 1, "material": None, "color": None, "scale": 1.0}],
    "relations": [{"kind": "on", "subject": "ball", "object": "table"},
                  {"kind": "next_to", "subject": "table", "object": "crate"}],
    "ground": "floor", "lighting": "night", "action": None, "renderer_only": [],
}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def intent_schema() -> dict:
    """The JSON Schema of a scene intent, with the catalogue's names as enums."""
    ref = {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"}
    thing = {"type": "object", "additionalProperties": False,
             "required": ["ref", "template", "count", "material", "color", "scale"],
             "properties": {"ref": ref, "template": {"enum": sorted(templates())},
                            "count": {"type": "integer", "minimum": 1, "maximum": I.MAX_COUNT},
                            "material": _nullable({"enum": sorted(materials())}),
                            "color": _nullable({"enum": sorted(COLOURS)}),
                            "scale": {"type": "number", "minimum": 0.2, "maximum": 5.0}}}
    relation = {"type": "object", "additionalProperties": False, "required": ["kind", "subject", "object"],
                "properties": {"kind": {"enum": list(I.RELATIONS)}, "subject": ref, "object": _nullable(ref)}}
    action = {"type": "object", "additionalProperties": False, "required": ["verb", "target", "direction", "toward"],
              "properties": {"verb": {"enum": ["push", "kick", "roll", "drop", "knock_over"]}, "target": ref,
                             "direction": _nullable({"enum": ["left", "right", "forward", "back", "toward"]}),
                             "toward": _nullable(ref)}}
    return {"type": "object", "additionalProperties": False,
            "required": ["things", "relations", "ground", "lighting", "action", "renderer_only"],
            "properties": {"things": {"type": "array", "items": thing, "minItems": 1, "maxItems": 12},
                           "relations": {"type": "array", "items": relation, "maxItems": 16},
                           "ground": {"enum": ["floor", "grass", "snow", "sand", "ice", "wood", "concrete", "carpet",
                                               "dirt"]},
                           "lighting": {"enum": ["day", "night", "indoors", "sunset"]},
                           "action": _nullable(action),
                           "renderer_only": {"type": "array", "items": {"type": "string"}, "maxItems": 12}}}


def messages(prompt: str) -> list[dict[str, str]]:
    names = ", ".join(sorted(templates()))
    return [{"role": "system", "content": SYSTEM + f"\nTemplates: {names}."},
            {"role": "user", "content": EXAMPLE_PROMPT},
            {"role": "assistant", "content": json.dumps(EXAMPLE_REPLY)},
            {"role": "user", "content": prompt}]


def read_with_model(prompt: str, backend: Backend) -> I.SceneIntent:
    """The model's scene intent for `prompt`, checked; the grammar's reading where the model's fails."""
    grammar = read_prompt(prompt)
    try:
        reply = backend.complete(PlanRequest(messages=messages(prompt), schema=intent_schema(), max_tokens=700,
                                             temperature=0.0))
        raw = json.loads(reply.text)
        return checked(raw, prompt, grammar)
    except (BackendError, ValueError, ValidationError, TypeError, KeyError) as exc:
        note = f"the model's scene intent was unusable ({str(exc).splitlines()[0][:120]}): the grammar read the prompt"
        return grammar.model_copy(update={"assumptions": grammar.assumptions + [note]})


def checked(raw: dict, prompt: str, grammar: I.SceneIntent) -> I.SceneIntent:
    """The model's reply as a scene intent: unknown refs and self-relations dropped (and said); the
    grammar's renderer-only words kept."""
    things = [I.Thing(**t) for t in raw.get("things", [])]
    refs = {t.ref for t in things}
    notes = []
    relations = []
    for r in raw.get("relations", []):
        rel = I.Relation(**r)
        if rel.subject not in refs or (rel.object is not None and rel.object not in refs) or rel.object == rel.subject:
            notes.append(f"the model related {rel.subject!r} {rel.kind} {rel.object!r}, which names no thing: dropped")
            continue
        relations.append(rel)
    action = raw.get("action")
    act = I.FirstAction(**action) if action else None
    if act is not None and act.target not in refs:
        notes.append(f"the model's first action acts on {act.target!r}, which is not built: dropped")
        act = None
    renderer = sorted(set(raw.get("renderer_only", [])) | set(grammar.renderer_only))
    return I.SceneIntent(prompt=prompt, things=things, relations=relations, ground=raw.get("ground", "floor"),
                         lighting=raw.get("lighting", "day"), action=act, renderer_only=renderer,
                         unknown=grammar.unknown, assumptions=notes)
