"""Words for things: every template's noun and synonyms, with their plurals, as token phrases."""

from __future__ import annotations

import functools

from agent.knowledge.catalogue import CatalogueObject, lookup
from simulator.templates import templates

_IRREGULAR = {"shelf": "shelves", "bookshelf": "bookshelves", "knife": "knives", "leaf": "leaves",
              "glass": "glasses", "box": "boxes", "bench": "benches", "couch": "couches", "dish": "dishes",
              "marble": "marbles", "domino": "dominoes", "stairs": "stairs", "steps": "steps", "tomato": "tomatoes"}


def plural(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


@functools.cache
def noun_phrases() -> dict[tuple[str, ...], tuple[str, bool]]:
    """Token phrase -> (template name, plural?) for every template's noun, name and synonyms."""
    out: dict[tuple[str, ...], tuple[str, bool]] = {}
    for name, t in templates().items():
        for words in [t.noun, name, *t.synonyms]:
            tokens = tuple(words.replace("-", " ").split())
            out.setdefault(tokens, (name, False))
            out.setdefault(tokens[:-1] + (plural(tokens[-1]),), (name, True))
    return out


def match_noun(tokens: list[str], i: int) -> tuple[str, bool, int] | None:
    """(template, plural?, tokens used) of the longest thing-phrase starting at `i`, or None."""
    phrases = noun_phrases()
    for n in (3, 2, 1):
        key = tuple(tokens[i:i + n])
        if len(key) == n and key in phrases:
            name, many = phrases[key]
            return name, many, n
    return None


def catalogue_noun(tokens: list[str], i: int) -> tuple[CatalogueObject, bool, int] | None:
    """(everyday object, plural?, tokens used) of the longest phrase at `i` that the object catalogue
    (agent/knowledge/objects.yaml) names and no template does: "a lemon", "four cans of cola"."""
    for n in (3, 2, 1):
        words = tokens[i:i + n]
        if len(words) < n or not all(w.isalpha() for w in words):
            continue
        found = lookup(" ".join(words))
        if found is not None:
            many = words[-1] != found.name.split()[-1] and words[-1].endswith("s")
            return found, many, n
    return None


def primitive_template(obj: CatalogueObject) -> tuple[str, dict[str, float]]:
    """The primitive template (sphere, cylinder, brick) and parameters that build a catalogue object
    at its real size (a capsule is built as a cylinder of its full length)."""
    s = obj.size
    if obj.shape == "sphere":
        return "sphere", {"radius": s[0]}
    if obj.shape == "cylinder":
        return "cylinder", {"radius": s[0], "height": s[1]}
    if obj.shape == "capsule":
        return "cylinder", {"radius": s[0], "height": s[1] + 2 * s[0]}
    return "brick", {"length": s[0], "width": s[1], "height": s[2]}
