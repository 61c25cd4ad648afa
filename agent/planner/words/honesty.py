"""Honest when unsure: another language, a verb nobody knows, a referent that could be several bodies.

Each check returns a :class:`Doubt` (what was understood, what was not, one suggestion) or None.
A doubt means the planner does nothing for that part of the action and says why: doing the wrong
thing is worse than doing nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.planner.narration.describe import colour_name
from agent.planner.words.lexicon import (
    AUX,
    CONJ,
    DEFINITE,
    INDEFINITE,
    NUMBERS,
    PREPS,
    PRONOUNS,
    VERB_WORD,
    tokens,
)
from simulator.state import WorldState

FOREIGN = frozenset({
    # German
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "nach", "links", "rechts", "und", "mit", "vom",
    "zum", "zur", "auf", "schieb", "schiebe", "mach", "mache", "ist", "nicht", "tisch", "ball", "tasse", "apfel",
    "rot", "rote", "roten", "blau", "auto", "stoß", "stoss", "wirf", "fallen", "lass", "bitte", "oben", "unten",
    # French
    "le", "la", "les", "vers", "du", "et", "pousse", "fais", "tomber", "pomme", "droite", "gauche", "une",
    "sur", "avec", "rouge", "bleu", "tour", "balle", "jette", "mets",
    # Spanish, Italian, Portuguese
    "el", "los", "las", "izquierda", "derecha", "empuja", "pinta", "pelota", "caja", "azul", "rojo", "roja", "il",
    "lo", "gli", "spingi", "rosso", "cubo", "una", "del", "della", "sinistra", "destra", "mesa", "y", "con",
    # Dutch
    "het", "een", "naar", "duw", "bal", "rood", "blauw", "tafel", "maak",
})
"""Function words and common action words of other languages (English words left out)."""
ENGLISH_ALSO = frozenset({"a", "an", "in", "on", "to", "is", "be", "ball", "tour", "die", "den", "lass", "con", "mesa",
                          "la", "ist"})
"""Words that are English too, counted for neither side."""
LIGHT_VERBS = frozenset({"turn", "make", "set", "get", "have", "give", "let", "bring", "cause", "grab", "use"})
"""Verbs too general for the lexicon: the model may read these; other unknown verbs are refused."""


@dataclass(frozen=True)
class Doubt:
    """Why a part of the action is not acted on."""

    code: str
    """language, unknown_verb, ambiguous, nothing_understood."""
    message: str
    """The sentence for the narration: what was understood, what was not, one suggestion."""


def language(action: str) -> Doubt | None:
    """Another language: at least two of its function words, or letters English does not use."""
    toks = re.findall(r"[^\W\d_]+", action.lower())
    foreign = [t for t in toks if t in FOREIGN and t not in ENGLISH_ALSO]
    accents = re.search(r"[äöüßéèêàçñìòù¿¡]", action.lower())
    if toks and (len(foreign) >= 2 or (accents and foreign)) and len(foreign) >= 0.3 * len(toks):
        return Doubt("language", "I did not understand that (I read English only), so nothing happens. Try, for "
                                 "example, \"paint the mug red\".")
    return None


def unknown_verb(text: str, cue_weight: float, known_nouns: set[str]) -> Doubt | None:
    """A clause with no verb the lexicon knows, led by a word that is no known verb: refuse it.
    `text` is the cue text, in which referring phrases are masked as "x"."""
    if cue_weight > 0:
        return None
    toks = tokens(text)
    if not toks:
        return Doubt("nothing_understood", "I did not understand that, so nothing happens.")
    lead = next((t for t in toks if t != "x" and t not in DEFINITE and t not in INDEFINITE and t not in PRONOUNS
                 and t not in known_nouns and t not in AUX and t not in PREPS and t not in CONJ), None)
    if lead is None:
        return None
    if lead in LIGHT_VERBS or VERB_WORD.match(lead):
        return None
    return Doubt("unknown_verb", f"I did not understand the verb \"{lead}\", so I did not do that. Verbs I know: "
                                 "\"push, throw, toss up, stop, let go, remove, paint, make heavier or lighter, put, "
                                 "add, topple\", for example \"paint the ball red\".")


_BACK = re.compile(r"\b(?:back (?:to )?where (?:it|they) (?:was|were|came from|started)|where (?:it|they) (?:was|were) "
                   r"before|(?:its|their) (?:original|old|first) (?:place|position|spot)|back in (?:its|their) place)\b")


def no_verb(target: str) -> Doubt:
    """The words name a body but no change the planner knows."""
    name = target.replace("-", " ")
    return Doubt("no_verb", f"I understood the {name} but could not tell what should happen to it, so nothing "
                            f"happens. Try, for example, \"push the {name}\" or \"paint the {name} red\".")


def remembered_place(text: str) -> Doubt | None:
    """"Put the pear back where it was": the planner sees the world now, not where bodies were before."""
    if _BACK.search(text.lower()):
        return Doubt("no_memory", "I could not tell where that was: I see the world as it is now, not where things "
                                  "were before, so nothing happens. Name a place, for example \"put it next to the "
                                  "mug\".")
    return None


def ambiguous(noun: str, ids: list[str], state: WorldState, count: int = 1) -> Doubt:
    """Which of several bodies a singular noun (or which `count` of them a counted one) means, with
    their distinguishing words."""
    colours = {i: colour_name(state.entities[i].color) for i in ids[:4]}
    if len(set(colours.values())) < len(colours):  # colours that do not tell them apart: the ids do
        colours = dict.fromkeys(colours, "")
    names = [f"the {colours[i]} one ({i})" if colours[i] else i for i in ids[:4]]
    choice = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    said = [f"the {colours[i]} {noun}" if colours[i] else i for i in ids[:2]]
    if count > 1:
        word = next((w for w, n in NUMBERS.items() if n == count), str(count))
        return Doubt("ambiguous", f"I could not tell which {word} {noun}s you mean: {choice}? Nothing happens; "
                                  f"name them, for example \"{said[0]} and {said[1]}\".")
    return Doubt("ambiguous", f"I could not tell which {noun} you mean: {choice}? Nothing happens; name one, "
                              f"for example \"{said[0]}\".")
