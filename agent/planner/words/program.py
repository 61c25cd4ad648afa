"""A plan is a small program: the action cut into clauses, each a step over a set of targets.

:func:`clauses` cuts a compound request ("paint the mug red and push it to the right", "remove the
can, then push the book away", "push the apple left and the lemon right") into its parts; an
elliptical part borrows the verb of the part before it. Each part is read on its own (with the
parts before it as history, so "it" works) into a :class:`Step`: one intent over a set of target
ids, run in order after the steps before it.

:func:`cue_text` hides the words of referring phrases from the verb cues, so a modifier never
becomes a verb: "push the heaviest fruit" is a push, not "make heavier".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.planner.words.grounding import Grounding
from agent.planner.words.intent import Intent
from agent.planner.words.verbs import VerbChoice
from agent.planner.words.lexicon import VERB_WORD, camera_direction, colour_word, normalised, tokens, verb_cues

_HARD_SPLIT = re.compile(r"\s*(?:;|,\s*(?:and\s+)?then\b|\band then\b|\bthen\b|\bbut\b|\.\s+(?=[A-Za-z]))\s*", re.I)
_AND = re.compile(r"\s*(?:,\s*and|\band|,)\s+", re.I)
_SLOT = re.compile(r"\b(?:heavier|lighter|heavy|light|left|right|away|toward|up|down|off)\b")


class Step(BaseModel):
    """One step of a plan: an intent over a set of targets."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=500)
    """The clause this step was read from."""
    verb: str
    """The intent's verb (push, recolor, ..., place, goal verbs read as push)."""
    targets: list[str] = Field(default_factory=list)
    """Ids acted on (each gets the same intent)."""
    mode: Literal["together", "in_order"] = "in_order"
    """Whether it starts with the step before it or after it (events of one turn all start together)."""
    goal: dict | None = None
    """The typed goal (simulator.goals) the cerebellum checked, if any."""
    verdict: str | None = None
    """ok, or why the goal was not met, or why the step was refused."""
    decided_by: dict[str, str] = Field(default_factory=dict)
    """Which reader decided each part of this step: 'step' (generation: the model's whole program;
    per_clause: the model asked for this clause alone; lexicon), and verb, targets, slots and goal
    (lexicon, scoring, generation, default)."""
    dropped: list[str] = Field(default_factory=list)
    """Ids a model named for this step that the words did not name: not acted on."""


@dataclass
class Reading:
    """One clause read into an intent (or a doubt)."""

    text: str
    intent: Intent | None
    targets: list[str]
    grounding: Grounding | None
    decided_by: dict[str, str] = field(default_factory=dict)
    doubt: str | None = None
    unknown: list[str] = field(default_factory=list)
    colour_hex: str | None = None
    verb: VerbChoice | None = None
    """How the verb was chosen (the lexicon's cues, the model's scores), when one was."""
    goal: str | None = None
    """A goal kind (:mod:`simulator.goals`) a model wrote for this step, kept only where the words
    state no goal and no direction; the cerebellum imagines it like a goal from words."""
    mode: Literal["together", "in_order"] = "in_order"
    """Whether the step starts with the step before it or after it, as the program says."""
    dropped: list[str] = field(default_factory=list)
    """Ids a model named that the words did not: not acted on."""


def clauses(action: str) -> list[str]:
    """The parts of a compound request, each a full clause ("and the lemon to the right" borrows the verb)."""
    out: list[str] = []
    for part in (p for p in _HARD_SPLIT.split(action.strip()) if p and p.strip(" .,")):
        out += _split_and(part.strip())
    return [c for c in out if tokens(c)] or [action]


def _has_verb(text: str) -> bool:
    scores, _ = verb_cues(normalised(text))
    return any(v > 0 for k, v in scores.items()) or any(VERB_WORD.match(t) for t in tokens(text))


def _split_and(part: str) -> list[str]:
    pieces = _AND.split(part)
    if len(pieces) == 1:
        return [part]
    out = [pieces[0]]
    for piece in pieces[1:]:
        left = out[-1]
        toks = tokens(piece)
        if toks and _has_verb(piece) and not _starts_nominal_group(toks) or _imperative_shape(toks):
            out.append(piece)
        elif toks and _complete(left) and _SLOT.search(normalised(piece)) or _colour_tail(left, piece):
            lead = tokens(left)[0]
            out.append(f"{lead} {piece}" if VERB_WORD.match(lead) or lead in ("make", "paint", "turn") else piece)
        else:
            out[-1] = f"{left} and {piece}"
    return out


def _imperative_shape(toks: list[str]) -> bool:
    """'frobnicate the table': an unknown word leading a noun phrase reads as a verb of its own clause."""
    return len(toks) >= 2 and toks[0] not in ("the", "a", "an", "both", "all", "every", "each") \
        and toks[1] in ("the", "a", "an", "it", "them", "every", "all")


def _starts_nominal_group(toks: list[str]) -> bool:
    """'the lemon lighter' starts with a noun phrase and has no verb of its own before its slot word."""
    return toks[0] in ("the", "a", "an", "both") and not any(VERB_WORD.match(t) for t in toks[1:3])


def _complete(left: str) -> bool:
    """Whether a clause already has its slot (a direction, a colour, heavier/lighter) after its object."""
    text = normalised(left)
    return bool(camera_direction(text)) or bool(re.search(r"\b(?:heavier|lighter)\b", text)) or \
        any(colour_word(t) for t in tokens(text)[2:])


def _colour_tail(left: str, piece: str) -> bool:
    toks = tokens(piece)
    return bool(toks) and colour_word(toks[-1]) is not None and any(colour_word(t) for t in tokens(left)[2:])


def slot_text(text: str, g: Grounding) -> str:
    """`text` (normalised) without the phrases a referring expression consumed ("the object closest to
    the camera": "to the camera" picks the object, it is no direction)."""
    toks = tokens(text)
    drop: set[int] = set()
    for p in g.phrases:
        if p.kind == "ref":
            drop |= set(range(p.start, p.end))
            k = p.start - 1
            while k >= 0 and toks[k] in ("to", "from", "the", "of", "next", "on", "top", "under", "behind", "near"):
                drop.add(k)
                k -= 1
    return " ".join(t for k, t in enumerate(toks) if k not in drop)


def cue_text(text: str, g: Grounding) -> str:
    """`text` (normalised) with the words of referring phrases hidden from the verb cues: each run of
    hidden words is one "x", so "make the three heaviest objects red" reads "make x red"."""
    toks = tokens(text)
    hidden = {k for p in g.phrases if p.kind in ("entity", "group", "ref", "unknown") for k in range(p.start, p.end)}
    out: list[str] = []
    for k, t in enumerate(toks):
        if k > 1 and (t in ("until", "till") or t == "so" and toks[k + 1 : k + 2] in (["that"], ["it"], ["they"])):
            break  # "... so it stops before the edge": the goal, not the verb
        if k in hidden and not VERB_WORD.match(t):
            if k - 1 not in hidden or not out or out[-1] != "x":
                out.append("x")
        else:
            out.append(t)
    return " ".join(out)
