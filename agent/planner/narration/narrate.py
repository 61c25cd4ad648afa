"""The planned narration of an intent, before anything is simulated.

Sentences say only what the intent does ("The ball is pushed to the left."), in words that
:mod:`agent.planner.narration.claims` can check, so that :func:`agent.planner.narration.reconcile.reconcile` keeps them
when the physics bears them out and replaces them when it does not.
"""

from __future__ import annotations

import re

from agent.planner.cerebellum.compiler import Compiled
from agent.planner.words.camera import DIRECTION_PHRASES
from agent.planner.words.intent import Intent
from agent.planner.narration.outcome import name
from agent.planner.formats.plan import NARRATION_MAX
from simulator.state import WorldState

_HOW = {"gentle": "gently ", "normal": "", "hard": ""}


def _direction_phrase(intent: Intent) -> str:
    d = intent.direction
    if d == "at" and intent.place:
        return f" toward the {name(intent.place)}"
    if d == "along" and intent.place:
        return f" along the {name(intent.place)}"
    if d == "off":
        return f" off the {name(intent.place)}" if intent.place else " toward the edge"
    return f" {DIRECTION_PHRASES[d]}" if d in DIRECTION_PHRASES else ""


def intent_narration(intent: Intent, compiled: Compiled, state: WorldState) -> str:
    """One or two present-tense sentences for what the intent does."""
    verb, who = intent.verb, f"the {name(intent.target)}" if intent.target else ""
    if compiled.problem:
        return _cap(f"Nothing happens: {compiled.problem}.")
    if verb == "nothing":
        return "Nothing happens."
    if verb == "spawn":
        return _spawn_sentence(intent, compiled)
    if not compiled.events:
        note = compiled.notes[0] if compiled.notes else "nothing changes"
        return _cap(f"Nothing changes: {note.replace(intent.target or '', who)}." if intent.target else
                    f"Nothing changes: {note}.")
    released = intent.target and state.entities[intent.target].fixed and verb in ("push", "toss_up")
    text = {
        "push": f"{who} is {_HOW[intent.strength]}pushed{' hard' if intent.strength == 'hard' else ''}"
                f"{_direction_phrase(intent)}",
        "toss_up": f"{who} is tossed up into the air",
        "stop": f"{who} stops" if intent.target else "everything stops moving",
        "release": f"{who} is let go and falls",
        "remove": f"{who} disappears",
        "recolor": f"{who} turns {intent.colour}",
        "heavier": f"{who} becomes heavier",
        "lighter": f"{who} becomes lighter",
    }[verb]
    if released:
        text = f"{who} is let go and {text.split(' is ', 1)[1]}"
    return _cap(text[0].upper() + text[1:] + ".")


def _spawn_sentence(intent: Intent, compiled: Compiled) -> str:
    bodies = [e.entity for e in compiled.events if e.type == "spawn"]
    if not bodies:
        return "Nothing happens: there is no room for it."
    noun = bodies[0].description or f"a {bodies[0].shape}"
    many = len(bodies) > 1
    if many:  # "a small marble" -> "3 small marbles"
        words = noun.split(" ", 1)[-1]
        noun = f"{len(bodies)} {words}{'es' if words.endswith(('s', 'x', 'ch', 'sh')) else 's'}"
    if intent.direction == "at" and intent.target:
        text = f"{noun} {'are' if many else 'is'} thrown at the {name(intent.target)}"
    elif intent.place and intent.place != "floor":
        verb = ("drop onto" if many else "drops onto") if intent.direction == "down" else \
            ("appear on" if many else "appears on")
        text = f"{noun} {verb} the {name(intent.place)}"
    else:
        text = f"{noun} {'appear' if many else 'appears'}"
    return _cap(text[0].upper() + text[1:] + ".")


def scene_listing(state: WorldState, limit: int = 200) -> str:
    """What is there, by id and look: 'table (a worn oak kitchen table top), table-leg-1 to table-leg-4, mug'."""
    groups: dict[str, list[str]] = {}
    for eid in state.entities:
        groups.setdefault(re.sub(r"[-_]?\d+$", "", eid) if re.search(r"\d$", eid) else eid, []).append(eid)
    parts = []
    for fam, ids in groups.items():
        if len(ids) > 2:
            parts.append(f"{ids[0]} to {ids[-1]}")
        else:
            for eid in ids:
                d = state.entities[eid].description
                parts.append(f"{eid} ({d})" if d and len(ids) == 1 else eid)
    text = ", ".join(parts) or "nothing at all"
    return text if len(text) <= limit else text[: limit - 3].rsplit(",", 1)[0] + ", ..."


def unknown_narration(unknown: list[str], state: WorldState) -> str:
    """'There is no box here. The scene has: ...' (or, with no name at all, which body is meant)."""
    if unknown:
        head = f"There is no {unknown[0]} here, so nothing happens."
    else:
        head = "It is not clear which thing is meant, so nothing happens."
    return _cap(f"{head} The scene has: {scene_listing(state, NARRATION_MAX - len(head) - 17)}.")


def _cap(text: str) -> str:
    return text[:NARRATION_MAX]
