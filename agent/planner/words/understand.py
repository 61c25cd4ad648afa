"""From an action's words to a typed :class:`Intent`: grounding, the verb choice, and the slots.

Every slot records the component that decided it: ``lexicon`` (the words said it outright,
grounding included), ``scoring`` (the model's likelihoods chose it), ``generation`` (a model wrote
it under constraints; see :mod:`agent.planner.planner`) or ``default`` (nothing said it, so the
compiler's default stands).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.planner.words.grounding import Grounding
from agent.planner.words.intent import Intent
from agent.planner.words.lexicon import SPAWN_NOUNS, amount_of, camera_direction, colour_word, singular, strength_of
from agent.planner.words.verbs import VerbChoice
from simulator.state import WorldState

NEEDS_TARGET = {"push", "toss_up", "release", "remove", "recolor", "heavier", "lighter"}
"""Verbs that act on an existing body (a step with no target for them plans nothing)."""

_DROP = re.compile(r"\b(?:drop\w*|fall\w*|fell|rain\w*|from above|from the sky|lands?|landed|tumbl\w*)\b")
_THROW = re.compile(r"\b(?:throw\w*|threw|toss\w*|hurl\w*|fling\w*|flung|launch\w*|fired?|shoot\w*|shot|"
                    r"roll\w*|lob\w*|bowl\w*|pitch\w*|fly|flies)\b")


@dataclass
class Understanding:
    """An action read into an intent, with the evidence."""

    intent: Intent | None
    """The intent; None when the action names something that is not there (see `unknown`)."""
    decided_by: dict[str, str]
    """Per slot (verb, target, direction, ...): lexicon, scoring, generation or default."""
    grounding: Grounding
    """What the words referred to."""
    verb: VerbChoice
    """How the verb was chosen."""
    unknown: list[str] = field(default_factory=list)
    """Referents that match no entity; with no target, nothing happens and the narration says so."""


def build_intent(state: WorldState, text: str, g: Grounding, choice: VerbChoice) -> Understanding:
    """Fill the slots for `choice.verb` from the grounding and the words."""
    verb = choice.verb
    by: dict[str, str] = {"verb": choice.decided_by}
    if verb == "spawn":
        return _spawn_intent(text, g, choice, by)
    if verb == "nothing":
        return Understanding(Intent(verb="nothing"), by, g, choice)
    target = g.target
    by["target"] = "lexicon"
    if target is None or _unknown_first(g):
        if g.unknown:
            return Understanding(None, by, g, choice, unknown=g.unknown)
        if verb == "stop":
            return Understanding(Intent(verb="stop"), by, g, choice)
        free = [i for i, e in state.entities.items() if not e.fixed]
        target = g.candidates[0] if g.candidates else (free[0] if len(free) == 1 else None)
        by["target"] = "lexicon" if g.candidates else "default"
        if target is None:
            return Understanding(None, by, g, choice, unknown=[])
    if verb == "release" and not state.entities[target].fixed and _direction(text, g)[0] is not None:
        verb = "push"  # letting go of a free body in some direction is a throw ("releases the ball down the lane")
        by["verb"] = by["verb"] + "+rule"
    slots: dict = {"verb": verb, "target": target}
    if verb in ("push", "toss_up"):
        direction, place = _direction(text, g)
        slots.update(direction=direction, place=place)
        by["direction"] = "lexicon" if direction else "default"
        strength = strength_of(text)
        slots["strength"] = strength or "normal"
        by["strength"] = "lexicon" if strength else "default"
    elif verb == "recolor":
        slots["colour"] = g.colour
        by["colour"] = "lexicon"
    elif verb in ("heavier", "lighter"):
        amount = amount_of(text, verb)
        slots["amount"] = amount
        by["amount"] = "lexicon" if amount else "default"
    return Understanding(Intent(**slots), by, g, choice)


def _unknown_first(g: Grounding) -> bool:
    """Whether a referent that matches nothing comes before the target ("push the box onto the table")."""
    first_unknown = next((p.start for p in g.phrases if p.kind == "unknown"), None)
    first_target = next((p.start for p in g.phrases if p.kind in ("entity", "group") and p.relation is None), None)
    return first_unknown is not None and (first_target is None or first_unknown < first_target)


def _direction(text: str, g: Grounding) -> tuple[str | None, str | None]:
    word = "toward" if g.toward_camera else camera_direction(text)
    if word in (None, "up", "down"):
        if g.aim:
            return "at", g.aim
        if g.along:
            return "along", g.along
        if g.off:
            return "off", None if g.off == "edge" else g.off
    return word, None


def _spawn_intent(text: str, g: Grounding, choice: VerbChoice, by: dict[str, str]) -> Understanding:
    new = g.new
    words = [w.removesuffix("'s") for w in new.words] if new else []
    head = singular(words[-1]) if words else ""
    slots: dict = {"verb": "spawn", "noun": " ".join(words)[:60]}
    by["noun"] = "lexicon" if words else "default"
    slots["shape"] = SPAWN_NOUNS[head][0] if head in SPAWN_NOUNS else None
    by["shape"] = "lexicon" if head in SPAWN_NOUNS else "default"
    own = [c for w in words if (c := colour_word(w))]
    slots["colour"] = own[-1] if own else g.colour
    by["colour"] = "lexicon" if slots["colour"] else "default"
    thrown = g.aim is not None and bool(_THROW.search(text))
    if thrown:
        slots.update(target=g.aim, direction="at")
    else:
        slots["target"] = g.near
        slots["direction"] = "down" if _DROP.search(text) else None
    slots["place"] = None if thrown else g.support
    by["place"] = "lexicon" if (thrown or g.support or g.near) else "default"
    strength = strength_of(text)
    slots["strength"] = strength or "normal"
    by["strength"] = "lexicon" if strength else "default"
    if new is not None and new.count > 1:
        slots["amount"] = float(new.count)
        by["amount"] = "lexicon"
    return Understanding(Intent(**slots), by, g, choice)
