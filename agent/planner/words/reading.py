"""One clause of an action read into an intent over a set of targets, or an honest doubt.

The order: colour references and count idioms are rewritten into plain words; grounding resolves
the referring expressions over the state; the verb is chosen from the cue text (the referring
phrases' words hidden, so "the heaviest fruit" never cues "heavier"); a clause with no verb the
lexicon knows, led by an unknown word, is refused; a singular noun that still names several bodies
is refused with a question; a held body named after "lets go of" is the one released.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.planner.words import honesty
from agent.planner.words.colour_ref import colour_reference
from agent.planner.words.grounding import Grounding, ground, vocabulary
from agent.planner.words.lexicon import SPAWN_NOUNS, normalised, tokens, verb_cues
from agent.planner.words.program import Reading, cue_text, slot_text
from agent.planner.words.understand import NEEDS_TARGET, Understanding, build_intent
from agent.planner.words.verbs import NEW_BODY_WEIGHT, VerbChoice
from simulator.scene import CameraSpec
from simulator.state import WorldState

_COUNTS = [(re.compile(r"\ba (?:pair|couple) of\b", re.IGNORECASE), "two"), (re.compile(r"\ba dozen\b", re.IGNORECASE), "twelve"),
           (re.compile(r"\bhalf a dozen\b", re.IGNORECASE), "six"), (re.compile(r"\ba single\b", re.IGNORECASE), "a"),
           (re.compile(r"\ba (?:can|bottle|glass|cup) of (\w+)\b", re.IGNORECASE), r"a \1 can")]


def rewrite(state: WorldState, text: str, history: Sequence[str], camera: CameraSpec | None) -> tuple[str, str | None]:
    """(text with count idioms and colour references in plain words, the referenced colour or None)."""
    for pattern, repl in _COUNTS:
        text = pattern.sub(repl, text)

    def entity_colour(words: str) -> str | None:
        g = ground(state, f"the {words}", history, camera)
        return state.entities[g.target].color if g.target else None

    ref = colour_reference(text, entity_colour)
    return (ref.text, ref.colour) if ref else (text, None)


def read_clause(state: WorldState, text: str, history: Sequence[str], camera: CameraSpec | None,
                choose) -> Reading:
    """Read one clause; `choose(cue_text, text, grounding) -> VerbChoice` picks the verb (lexicon,
    scoring or generation)."""
    plain, colour_hex = rewrite(state, text, history, camera)
    g = ground(state, plain, history, camera)
    ctext = cue_text(normalised(plain), g)
    scores, _ = verb_cues(ctext)
    weight = sum(scores.values()) + (NEW_BODY_WEIGHT if g.new is not None else 0.0)
    known = {h for ew in vocabulary(state).values() for h in ew.heads} | set(SPAWN_NOUNS)
    doubt = honesty.remembered_place(plain) or honesty.unknown_verb(ctext, weight, known)
    if doubt is not None:
        return Reading(text, None, [], g, doubt=doubt.message)
    choice: VerbChoice = choose(ctext, plain, g)
    if choice.decided_by == "default" and g.target is not None:  # no cue, no model: a push would be a guess
        return Reading(text, None, [], g, {"verb": "default"}, doubt=honesty.no_verb(g.target).message, verb=choice)
    if choice.verb == "spawn" and g.new is None and g.target is not None:
        choice = _not_spawn(state, g, scores, choice)
    _let_go_of(plain, g, choice)
    u: Understanding = build_intent(state, slot_text(normalised(plain), g), g, choice)
    if u.intent is None:
        return Reading(text, None, [], g, u.decided_by, unknown=u.unknown or [""], verb=choice)
    verb = u.intent.verb
    if verb in NEEDS_TARGET and g.ambiguous and not g.target_group:
        phrase = next(p for p in g.phrases if p.ids and p.ids[0] == g.target)
        ids = [i for i in phrase.ids if i in state.entities]
        return Reading(text, None, [], g, u.decided_by, doubt=honesty.ambiguous(phrase.head, ids, state, phrase.take).message,
                       verb=choice)
    targets = [t for t in (g.target_group or [u.intent.target]) if t] if verb in NEEDS_TARGET else \
        ([u.intent.target] if u.intent.target else [])
    return Reading(text, u.intent, targets, g, u.decided_by, colour_hex=colour_hex, verb=choice)


def _not_spawn(state: WorldState, g: Grounding, scores: dict[str, float], choice: VerbChoice) -> VerbChoice:
    """"The apple drops onto the table" names no new body: a held body is let go, a free one pushed."""
    held = state.entities[g.target].fixed
    best = max((v for v in scores if v not in ("spawn", "nothing")), key=lambda v: scores[v])
    verb = "release" if held and scores.get("release", 0) > 0 else best if scores.get(best, 0) > 0 else \
        ("release" if held else "push")
    return VerbChoice(verb, choice.decided_by + "+rule", choice.lexicon, choice.evidence, choice.scores, choice.model_s)


def _let_go_of(text: str, g: Grounding, choice: VerbChoice) -> None:
    """"The hook lets go of the box": the body after "go of" is released, whatever holds it."""
    if choice.verb != "release":
        return
    toks = tokens(text)
    for k in range(len(toks) - 1):
        if toks[k] == "go" and toks[k + 1] == "of":
            after = next((p for p in g.phrases if p.start >= k + 2 and p.ids and p.kind in ("entity", "group")), None)
            if after is not None:
                g.target, g.target_group, g.ambiguous = after.ids[0], [], False
                g.unknown = []
                for p in g.phrases:
                    if p.kind == "unknown":
                        p.kind = "word"
                for p in g.phrases:
                    p.relation = p.relation if p is not after else None
                g.phrases = [p for p in g.phrases if p.start >= k + 2 or p.kind not in ("entity", "group")]
            return
