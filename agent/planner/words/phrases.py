"""Noun phrases: closed word classes cut an action into phrases and the prepositions before them.

No part-of-speech model: determiners, auxiliaries, conjunctions, prepositions and verb stems end
a phrase; after a noun only another noun or a number continues it ("table leg", "pin 3").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.planner.words.lexicon import (
    AUX, CONJ, DEFINITE, GROUP_NOUNS, INDEFINITE, NUMBERS, ORDINALS, PREPS, PRONOUNS, SPATIAL, VERB_WORD, colour_word,
    singular,
)

# Multi-word prepositions first: (words, relation kind).
_PREP_PHRASES: list[tuple[tuple[str, ...], str]] = sorted([
    (("on", "top", "of"), "support"), (("on",), "support"), (("onto",), "support"), (("atop",), "support"),
    (("above",), "support"), (("over",), "support"), (("upon",), "support"), (("in",), "support"),
    (("down", "onto"), "support"), (("into",), "aim"), (("at",), "aim"), (("toward",), "aim"),
    (("towards",), "aim"), (("to",), "aim"), (("against",), "aim"), (("through",), "aim"),
    (("next", "to"), "near"), (("beside",), "near"), (("near",), "near"), (("by",), "near"),
    (("close", "to"), "near"), (("alongside",), "near"), (("in", "front", "of"), "near"), (("behind",), "behind"),
    (("below",), "under"), (("beneath",), "under"), (("underneath",), "under"), (("inside",), "aim"),
    (("down",), "along"), (("up",), "along"), (("along",), "along"), (("across",), "along"), (("off",), "off"), (("off", "of"), "off"),
    (("from",), "from"), (("away", "from"), "from"), (("out", "of"), "from"), (("under",), "under"),
], key=lambda p: -len(p[0]))
_IRREGULAR = {"dice", "mice", "geese", "sheep", "fish", "people", "children"}
"""Plural nouns without an s."""
_PARTICLES = {"over", "down", "up", "away", "off"}
_PLACE_NOUNS = {"camera", "viewer", "lens", "floor", "ground", "edge", "side"}


@dataclass
class Phrase:
    """One noun phrase of the action and what it refers to."""

    start: int
    """Index of its first token (the determiner when there is one)."""
    end: int
    """Index after its last token."""
    det: str
    """Its determiner ('' when bare)."""
    words: list[str]
    """Its words after the determiner."""
    relation: str | None = None
    """The relation a preposition gives it: support, aim, near, under, behind, along, off, from (None: none)."""
    of: Phrase | None = None
    """The phrase after 'of' ("the middle of the tower")."""
    kind: str = "word"
    """entity, group, pronoun, new, unknown, floor, edge, camera, agent, or word (not a referent)."""
    ids: list[str] = field(default_factory=list)
    """The entities it may mean, best first."""
    count: int = 1
    """How many it names ("two balls" -> 2)."""
    ambiguous: bool = False
    """A singular noun that still names several bodies ("the block" among four), or a counted one
    naming more than its count ("the two blocks" among four): ask which."""
    take: int = 0
    """How many of the bodies there a definite counted phrase asks for ("the two lowest blocks" -> 2; 0: uncounted)."""

    @property
    def head(self) -> str:
        content = [w for w in self.words if not w[0].isdigit() and w not in ("number", "no")]
        return singular(content[-1]) if content else ""

    @property
    def text(self) -> str:
        return " ".join(w.removesuffix("'s") for w in self.words)


def chunk(toks: list[str], known: set[str]) -> list[Phrase]:
    """The noun phrases of `toks`, each with the relation its preposition gives it; `known` holds the
    nouns that name things (entity heads and spawnable nouns)."""
    phrases: list[Phrase] = []
    i, n = 0, len(toks)
    while i < n:
        rel, j = _prep_at(toks, i)
        if rel and toks[i] in _PARTICLES and i > 0 and VERB_WORD.match(toks[i - 1]) \
                and not any(p.head in known for p in phrases):
            i += 1  # "knocks over the pin": a particle, not a place
            continue
        start = j if rel else i
        p = _phrase(toks, start, known) if start < n else None
        if p is None:
            i = j if rel else i + 1
            continue
        p.relation = rel
        phrases.append(p)
        i = p.end
    return phrases


def _prep_at(toks: list[str], i: int) -> tuple[str | None, int]:
    for words, kind in _PREP_PHRASES:
        if tuple(toks[i : i + len(words)]) == words:
            return kind, i + len(words)
    return None, i


def _phrase(toks: list[str], i: int, known: set[str]) -> Phrase | None:
    start, det, count = i, "", 1
    if toks[i] in DEFINITE or toks[i] in INDEFINITE:
        det, i = toks[i], i + 1
    elif toks[i] in NUMBERS and i + 1 < len(toks) and toks[i + 1] != "times" and any((singular(t) != t or t in _IRREGULAR) and t not in
                                                          ("is", "tennis") for t in toks[i + 1 : i + 4]):
        det, count, i = "a", NUMBERS[toks[i]], i + 1
    if i < len(toks) and toks[i] in PRONOUNS:
        return Phrase(start, i + 1, det, [toks[i]])
    words: list[str] = []
    while i < len(toks):
        t = toks[i]
        if t == "can" and (det or words) and (i + 1 >= len(toks) or not (VERB_WORD.match(toks[i + 1])
                                                                 or toks[i + 1] in AUX or toks[i + 1] in PRONOUNS)):
            words.append(t)  # "the can", "a cola can next to the mug": a noun, not the auxiliary
            i += 1
            continue
        if t in AUX or t in CONJ or t in DEFINITE or t in INDEFINITE or t in PRONOUNS:
            break
        if t in PREPS and not (t == "of" and words and is_selector(words[-1])):
            break
        if t == "of":
            break
        if t.endswith("ly") and t not in ("only", "family", "holly", "belly"):
            break
        if VERB_WORD.match(t) and singular(t) not in known:
            if det in INDEFINITE and not (words and singular(words[-1]) in known):
                words.append(t)  # "a light nudge", "a shove": an action named as a noun
                i += 1
            break
        if words and singular(words[-1]) in known and colour_word(t) and not (i + 1 < len(toks) and
                                                                            singular(toks[i + 1]) in known):
            break  # "paint the ball orange": the colour ends the phrase, though "orange" names a fruit too
        nouny = bool(words) and (singular(words[-1]) in known or words[-1][0].isdigit() or words[-1] in _PLACE_NOUNS)
        if nouny and not (singular(t) in known or t[0].isdigit() or t == "number"):
            break  # after a noun only another noun or a number continues the phrase
        if t[0].isdigit() and not (words and singular(words[-1]) in known | {"number"}):
            break
        words.append(t)
        i += 1
        if t.endswith("'s"):
            break
    if not words:
        return None
    p = Phrase(start, i, det, words, count=count)
    if i + 1 < len(toks) and toks[i] == "of" and is_selector(words[-1]):
        inner = _phrase(toks, i + 1, known)
        if inner is not None:
            p.of, p.end = inner, inner.end
    return p


def is_selector(word: str) -> bool:
    """Whether a word picks among a group ("the middle of the tower", "the first of the pins")."""
    return word in SPATIAL or word in ORDINALS or word in ("edge", "side", "end", "rest", "one") or word in GROUP_NOUNS
