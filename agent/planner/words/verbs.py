"""Verb choice over the closed verb set: the lexicon first, the model's likelihoods where it is unsure.

The lexicon (:mod:`agent.planner.words.lexicon`) sums cue weights per verb, and grounding adds what
the sentence's structure says (an indefinite object noun is a new body). When one verb leads
clearly, the lexicon decides. Otherwise the model scores the verbs still in play by the
**noisy channel**: for each verb label, the summed log-probability of the action's text after
``"Verb: <label>\\nAction:"`` under a fixed few-shot prefix (which the backend keeps cached); the
highest wins. A model that cannot score leaves the lexicon's best guess in place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from agent.planner.words.grounding import Grounding
from agent.planner.words.intent import VERBS
from agent.planner.words.lexicon import verb_cues

SURE_SCORE = 1.0
"""The lexicon decides alone when its best verb has at least this weight ..."""
SURE_MARGIN = 1.0
"""... and leads the next verb by at least this much."""
NEW_BODY_WEIGHT = 2.0
"""What an indefinite object noun ("a rubber ball") adds to spawn."""

LABELS = {
    "push": "push it along",
    "toss_up": "toss it up into the air",
    "stop": "stop it moving",
    "release": "let it go so it falls",
    "remove": "make it disappear",
    "recolor": "paint it a new colour",
    "heavier": "make it heavier",
    "lighter": "make it lighter",
    "spawn": "a new object appears",
    "nothing": "nothing happens",
}
"""The words each verb is scored under (plain phrases read better to a small model than names)."""

_EXAMPLES = [
    ("push", "Someone kicks the crate to the right."), ("recolor", "The cup is painted green."),
    ("spawn", "A wooden plank falls onto the bench."), ("release", "The rope holding the lamp snaps."),
    ("nothing", "The room stays quiet for a moment."), ("toss_up", "The girl throws the pebble high into the air."),
    ("remove", "The vase vanishes without a trace."), ("heavier", "The cart becomes as heavy as an anvil."),
    ("stop", "A hand catches the rolling can and holds it still."), ("lighter", "The brick turns as light as a feather."),
    ("push", "The wind shoves the bucket across the yard."), ("spawn", "A glass marble appears on the shelf."),
    ("release", "The clamp lets go of the log."), ("remove", "Someone takes the book away."),
    ("nothing", "Everything waits."), ("recolor", "The lamp turns bright orange."),
    ("toss_up", "The cat jumps up."), ("stop", "The cart stops rolling."), ("heavier", "The box gets heavier."),
    ("lighter", "Make the bottle lighter."), ("push", "Roll the barrel toward the door."),
    ("spawn", "Put a red cup on the desk."), ("release", "Drop the hanging bag."), ("remove", "Delete the chair."),
    ("recolor", "Colour the chair blue."), ("nothing", "Nothing happens."), ("toss_up", "Flip the coin up into the air."),
    ("stop", "Freeze the spinning top."), ("heavier", "The cart weighs twice as much."),
    ("lighter", "The stone loses weight."),
]
"""Worked (verb, action) pairs, three per verb, in worlds of their own (no shipped scene's ids).
Thirty examples beat sixteen (65 vs 54 of 88 bench verbs with the model alone); plain verb names
as labels, and scoring the label after the action instead, did worse (59 and 15 of 88)."""
PREFIX = "Each action below does what its verb says.\n\n" + "".join(
    f"Verb: {LABELS[v]}\nAction: {a}\n\n" for v, a in _EXAMPLES)
"""The fixed few-shot prefix; it holds no world, so the backend evaluates it once."""


class Scorer(Protocol):
    """Anything that can score continuations (a backend with ``can_score``)."""

    def score(self, prefix: str, options: list[tuple[str, str]]) -> list[float]:
        """For each (context, continuation): log P(continuation | prefix + context), summed over tokens."""


@dataclass
class VerbChoice:
    """The chosen verb and how it was chosen."""

    verb: str
    """One of :data:`agent.planner.words.intent.VERBS`."""
    decided_by: str
    """lexicon, scoring or default (nothing matched and no model could score)."""
    lexicon: dict[str, float]
    """Cue weight per verb (structure included)."""
    evidence: list[str] = field(default_factory=list)
    """The cues that matched, as 'verb:words'."""
    scores: dict[str, float] | None = None
    """The model's log-likelihood per verb in play, when it scored."""
    model_s: float = 0.0
    """Seconds spent scoring."""


def lexicon_scores(text: str, grounding: Grounding) -> tuple[dict[str, float], list[str]]:
    """Cue weights per verb for normalised `text`, with the sentence's structure added."""
    scores, evidence = verb_cues(text)
    if grounding.new is not None:
        scores["spawn"] += NEW_BODY_WEIGHT
        evidence.append(f"spawn:new {grounding.new.text}")
    if scores["recolor"] and grounding.colour is None:
        scores["recolor"] = 0.0  # painting needs a colour the words name
    return scores, evidence


def is_sure(scores: dict[str, float]) -> bool:
    ranked = sorted(scores.values(), reverse=True)
    return ranked[0] >= SURE_SCORE and ranked[0] - ranked[1] >= SURE_MARGIN


def choose_verb(text: str, action: str, grounding: Grounding, scorer: Scorer | None = None,
                always: bool = False) -> VerbChoice:
    """The verb for `action` (`text` is its normalised form); `scorer` is consulted only when the
    lexicon is unsure, or (`always`) for every action over all verbs, ignoring the lexicon."""
    scores, evidence = lexicon_scores(text, grounding)
    best = max(VERBS, key=lambda v: scores[v])  # ties: the order of VERBS
    if always and scorer is not None:
        return _score(action, list(VERBS), scorer, scores, evidence)
    if is_sure(scores):
        return VerbChoice(best, "lexicon", scores, evidence)
    if scorer is None:
        if scores[best] > 0:
            return VerbChoice(best, "lexicon", scores, evidence)
        default = "push" if grounding.target else "nothing"
        return VerbChoice(default, "default", scores, evidence)
    in_play = [v for v in VERBS if scores[v] > 0]
    return _score(action, in_play if len(in_play) >= 2 else list(VERBS), scorer, scores, evidence)


def _score(action: str, in_play: list[str], scorer: Scorer, scores: dict[str, float], evidence: list[str]) -> VerbChoice:
    start = time.perf_counter()
    context = [(f"Verb: {LABELS[v]}\nAction:", " " + action.strip()) for v in in_play]
    logliks = scorer.score(PREFIX, context)
    model_s = time.perf_counter() - start
    ll = dict(zip(in_play, logliks))
    verb = max(in_play, key=lambda v: ll[v])
    return VerbChoice(verb, "scoring", scores, evidence, {v: round(x, 3) for v, x in ll.items()}, model_s)
