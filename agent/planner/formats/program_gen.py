"""The whole program by constrained generation, for models that write (OpenAI-compatible servers, vLLM).

One request: the model writes the action's program, a list of steps, each an intent over a SET of
targets, under a JSON Schema whose enums are grounded in the world (the ids, the floor, colours,
directions, strengths, verbs, and the goal kinds of :mod:`simulator.goals` the cerebellum pursues).
:func:`parse` reads the reply into the program's own type (:class:`~agent.planner.words.program.Reading`,
one per step) or into problems with codes and paths, which :func:`agent.planner.ask.ask` sends back.

:func:`merge_step` joins one model step with the words' reading of the clause it belongs to. The
safety rules: the slots the words state outright win (targets the words name included); a body the
model names that the words did not, while they name others, is dropped and recorded, never acted on;
fixed scenery only when named; a model goal only where the words state no goal and no direction,
about a body the words named.
"""

from __future__ import annotations

import json
from typing import Any

from agent.planner.cerebellum.steps import STEP_GOALS
from agent.planner.formats.intent_gen import KEYS, NONE, merge, world_lines
from agent.planner.words.intent import COLOURS, DIRECTION_MEANING, DIRECTIONS, SPAWN_SHAPES, STRENGTHS, VERB_MEANING, VERBS, Intent
from agent.planner.words.program import Reading
from simulator.checks import Problem
from simulator.state import WorldState

MAX_STEPS = 4
"""Most steps a program may have (a longer reply could not close within the token limit)."""
MAX_TARGETS = 8
"""Most targets one step may list."""
MODES = ("in_order", "together")
STEP_KEYS = ("verb", "targets", "direction", "strength", "colour", "shape", "place", "amount", "noun", "goal", "mode")
GOAL_MEANING = {
    "topples": "the targets fall over", "ends_off": "the target ends off the edge of what it rests on",
    "reaches": "the target is pushed until it touches the `place` body",
    "ends_on": "the target is carried onto the `place` body", "ends_in": "the target is carried into `place`",
    "ends_near": "the target is carried next to `place`",
}
USES = {"push": ("direction", "strength", "place"), "toss_up": ("strength",), "recolor": ("colour",),
        "heavier": ("amount",), "lighter": ("amount",),
        "spawn": ("direction", "strength", "colour", "shape", "place", "amount", "noun")}
"""The slots each verb reads (the others are cleared, so the record shows no slot nobody used)."""
assert set(GOAL_MEANING) == set(STEP_GOALS), "every goal kind the cerebellum pursues has a meaning here"

SYSTEM = (
    "You read an action in a physics scene and reply with its program as JSON: a list of steps, each "
    "an intent over a set of targets, choosing every value from the allowed lists. One step per thing "
    "done; a step acts on every id in its targets. Use \"none\" for slots that do not apply.\nVerbs:\n"
    + "\n".join(f"- {v}: {m}" for v, m in VERB_MEANING.items())
    + "\nDirections (camera terms):\n" + "\n".join(f"- {d}: {m}" for d, m in DIRECTION_MEANING.items())
    + "\nGoals (what must be true afterwards):\n" + "\n".join(f"- {g}: {m}" for g, m in GOAL_MEANING.items())
    + "\nmode: in_order (after the step before) or together (with it). place: the support id or 'floor' "
    "for spawn, the body aimed at or reached. amount: the mass factor for heavier/lighter, or how many "
    "bodies to spawn. noun: for spawn, the words naming the new body."
)
_EXAMPLE_WORLD = "- crate: a wooden crate (box, held)\n- cup: a blue plastic cup (cylinder, free)\n" \
                 "- can: a tin can (cylinder, free)"
_EXAMPLES = [
    ("Knock the cup to the left and paint the can red.",
     [{"verb": "push", "targets": ["cup"], "direction": "left"},
      {"verb": "recolor", "targets": ["can"], "colour": "red"}]),
    ("A tennis ball drops onto the crate.",
     [{"verb": "spawn", "direction": "down", "shape": "sphere", "place": "crate", "noun": "tennis ball"}]),
    ("Push the cup until it touches the can.", [{"verb": "push", "targets": ["cup"], "place": "can",
                                                 "goal": "reaches"}]),
]


def _full(partial: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: NONE for k in STEP_KEYS}
    out.update(targets=[], strength="normal", amount=1, noun="", mode="in_order")
    out.update(partial)
    return out


def messages(state: WorldState, action: str, history: list[str]) -> list[dict[str, str]]:
    """System text, three worked programs, then this world and action."""
    msgs = [{"role": "system", "content": SYSTEM}]
    for i, (act, steps) in enumerate(_EXAMPLES):
        world = f"World:\n{_EXAMPLE_WORLD}\n" if i == 0 else ""
        msgs.append({"role": "user", "content": f"{world}Action: {act}"})
        msgs.append({"role": "assistant", "content": json.dumps({"steps": [_full(s) for s in steps]})})
    recent = "".join(f"- {h}\n" for h in history[-3:] if h)
    msgs.append({"role": "user", "content": f"World:\n{world_lines(state)}\n"
                                            + (f"Recent turns:\n{recent}" if recent else "") + f"Action: {action}"})
    return msgs


def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": list(dict.fromkeys(values))}


def schema(state: WorldState) -> dict[str, Any]:
    """The decoding schema of a program: steps of enums grounded in `state` (ids, floor, colours, ...)."""
    ids = list(state.entities)
    step = {
        "verb": _enum(VERBS), "targets": {"type": "array", "items": _enum(ids), "maxItems": MAX_TARGETS},
        "direction": _enum(list(DIRECTIONS) + [NONE]), "strength": _enum(STRENGTHS),
        "colour": _enum(list(COLOURS) + [NONE]), "shape": _enum(list(SPAWN_SHAPES) + [NONE]),
        "place": _enum(ids + ["floor", NONE]), "amount": {"type": "number", "minimum": 1, "maximum": 20},
        "noun": {"type": "string", "maxLength": 40}, "goal": _enum(list(STEP_GOALS) + [NONE]), "mode": _enum(MODES),
    }
    item = {"type": "object", "properties": step, "required": list(STEP_KEYS), "additionalProperties": False}
    steps = {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_STEPS}
    return {"type": "object", "properties": {"steps": steps}, "required": ["steps"], "additionalProperties": False}


def parse(state: WorldState, raw: str) -> tuple[list[Reading] | None, list[Problem]]:
    """The reply as the program's steps (one :class:`Reading` each, every part decided by generation),
    or None and the problems, each with a code and the path of the offending value."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, [Problem(code="not_json", value=raw[:200], message=f"the reply is not JSON: {str(exc)[:200]}")]
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        return None, [Problem(code="not_a_program", path=("steps",), value=str(steps)[:200],
                              message=f"a program is an object with 'steps', a list of 1 to {MAX_STEPS} steps")]
    out: list[Reading] = []
    problems: list[Problem] = []
    for k, item in enumerate(steps):
        step, issues = _step(state, item, ("steps", k))
        problems += issues
        if step is not None:
            out.append(step)
    return (out, []) if not problems else (None, problems)


def _step(state: WorldState, item: Any, path: tuple) -> tuple[Reading | None, list[Problem]]:
    if not isinstance(item, dict) or set(item) - set(STEP_KEYS):
        extra = sorted(set(item) - set(STEP_KEYS)) if isinstance(item, dict) else item
        return None, [Problem(code="bad_step", path=path, value=str(extra)[:200],
                              message=f"a step is an object with the keys {', '.join(STEP_KEYS)} only")]
    targets = item.get("targets") or []
    bad = [t for t in targets if t not in state.entities] if isinstance(targets, list) else [targets]
    if bad or len(targets) > MAX_TARGETS:
        return None, [Problem(code="unknown_entity", path=path + ("targets",), value=bad[:3] or len(targets),
                              message=f"targets must be at most {MAX_TARGETS} ids of the world; not {bad[:3]}")]
    place = item.get("place")
    if place not in (None, NONE, "floor") and place not in state.entities:
        return None, [Problem(code="unknown_entity", path=path + ("place",), value=str(place)[:60],
                              message=f"place {str(place)[:60]!r} is not an id of the world, 'floor' or 'none'")]
    goal, mode = item.get("goal", NONE), item.get("mode", "in_order")
    if goal not in (*STEP_GOALS, NONE, None) or mode not in MODES:
        return None, [Problem(code="bad_value", path=path + (("goal",) if mode in MODES else ("mode",)),
                              value=str(goal if mode in MODES else mode)[:60],
                              message=f"goal is one of {', '.join(STEP_GOALS)} or none; mode in_order or together")]
    try:
        intent = _intent(item, targets)
    except ValueError as exc:
        return None, [Problem(code="bad_intent", path=path, value=str(item)[:200], message=str(exc)[:300])]
    by = {k: "generation" for k in (*KEYS, "goal") if k != "noun"}
    return Reading("", intent, list(dict.fromkeys(targets)), None, by, goal=None if goal in (NONE, None) else goal,
                   mode=mode), []


def _intent(item: dict[str, Any], targets: list[str]) -> Intent:
    clean = {k: (None if v == NONE else v) for k, v in item.items() if k in KEYS}
    clean["target"] = targets[0] if targets else None
    if clean.get("amount") in (None, 1, 1.0) and clean.get("verb") not in ("heavier", "lighter"):
        clean["amount"] = None
    clean["noun"] = clean.get("noun") or ""
    clean["strength"] = clean.get("strength") or "normal"
    return Intent.model_validate(clean)


def named(state: WorldState, lexical: Reading) -> set[str]:
    """The ids the words of a clause name (targets and every other body a phrase picks out)."""
    g = lexical.grounding
    ids = set(lexical.targets)
    if g is not None:
        ids |= set(g.target_group) | {i for p in g.phrases if p.kind in ("entity", "group", "ref") for i in p.ids}
        ids |= {i for i in (g.target, g.support, g.aim, g.near, g.along, g.off) if i}
    return ids & set(state.entities)


def merge_step(state: WorldState, model: Reading, lexical: Reading, split: bool) -> Reading:
    """One model step joined with the words' reading of its clause (see the module text for the rules).
    `split`: the model wrote several steps for this one clause, so its targets pick among the named."""
    words = named(state, lexical)
    said = [t for t in model.targets if t in words]
    dropped = [t for t in model.targets if t not in words and (words or state.entities[t].fixed)]
    unnamed = [t for t in model.targets if not words and not state.entities[t].fixed]
    if not split and lexical.intent.verb != model.intent.verb:  # a rule of the words changed the verb: they stand
        return Reading(lexical.text, lexical.intent, lexical.targets, lexical.grounding, dict(lexical.decided_by),
                       colour_hex=lexical.colour_hex, verb=lexical.verb, mode=model.mode, dropped=dropped)
    intent, by = merge(model.intent, lexical.intent, lexical.decided_by)
    if lexical.targets and not (split and said):
        targets, by["target"] = list(lexical.targets), "lexicon"
    else:
        targets, by["target"] = said or unnamed, "generation"
    place = intent.place if intent.place in (None, "floor") or intent.place in words else None
    unused = {k: None for k in ("direction", "colour", "shape", "place", "amount") if k not in USES.get(intent.verb, ())}
    if intent.verb == "push" and intent.direction in ("up", "down") and by.get("direction") != "lexicon":
        unused["direction"] = None  # a push up or down nobody said moves nothing a person meant: the default aim
    intent = intent.model_copy(update={"target": targets[0] if targets else lexical.intent.target, "place": place,
                                       **unused})
    by = {k: v for k, v in by.items() if k in ("verb", "target") or getattr(intent, k, None) not in (None, "")}
    goal = model.goal if intent.verb == "push" and by.get("direction") != "lexicon" and \
        (place or model.goal in ("topples", "ends_off")) else None
    by["goal"] = "generation" if goal else "default"
    return Reading(lexical.text, intent, targets, lexical.grounding, by, colour_hex=lexical.colour_hex,
                   verb=lexical.verb, goal=goal, mode=model.mode, dropped=dropped)
