"""Grounding: which entities an action's words refer to. Pure; no model.

Noun phrases are found with closed word classes (determiners, prepositions, auxiliaries, verb
stems) and resolved against each entity's id, description, colour and shape. Modifiers narrow the
candidates: colour words, description words, numbers ("pin 3"), ordinals ("the first domino", "the
last one"), and spatial words ("the top block", "the middle of the tower", "the left-most pin",
which use the scene camera). "it" is the earlier referent in the action, else the last entity the
recent history names. A definite noun with no match ("the box" where there is none) is reported as
unknown; an indefinite object noun ("a rubber ball") is a new body.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.planner.words.camera import ScreenAxes, screen_axes
from agent.planner.narration.describe import colour_name
from agent.planner.words.lexicon import (
    AGENTS, COLOURS, DEFINITE, GROUP_NOUNS, INDEFINITE, NON_OBJECT, NUMBERS, ORDINALS, PRONOUNS, SHAPE_WORDS,
    SPATIAL, SPAWN_NOUNS, SYNONYMS, VERB_WORD, colour_word, singular, tokens,
)
from agent.planner.words.phrases import Phrase, chunk, is_selector
from agent.planner.words.refer import GENERIC, KINDS, QUANTIFIERS, SUPERLATIVES, extreme, measure, of_kind, refine
from simulator.scene import CameraSpec
from simulator.state import EntityState, WorldState

_DESC_STOP = {"a", "an", "the", "of", "with", "and", "on", "in", "at", "to", "for", "from", "its", "by"}
_CUT = {"with", "of", "on", "in", "from", "for", "that", "which", "hanging", "standing"}


@dataclass(frozen=True)
class EntityWords:
    """The words that can name one entity."""

    id: str
    primary: str
    """The id's last word ('leg' for table-leg-1)."""
    heads: frozenset[str]
    """Nouns that name it: id words, the description's head noun, their synonyms."""
    words: frozenset[str]
    """Every descriptive word: id and description words and colour names."""
    colours: frozenset[str]
    """Colour words it answers to (its colour's name and colours in its description)."""
    number: int | None
    """The number ending its id ('pin-3' -> 3)."""
    family: str
    """The id without its number ('table-leg' for table-leg-1)."""


@dataclass
class Grounding:
    """What the action's words refer to."""

    phrases: list[Phrase]
    """Every noun phrase, in order."""
    target: str | None
    """The entity acted on: the first referent outside a prepositional phrase (else 'it')."""
    target_group: list[str]
    """All members when the target phrase names several ("the pins")."""
    support: str | None
    """What something goes on/onto/above ('floor' for the ground)."""
    aim: str | None
    """What something goes at/toward/into."""
    near: str | None
    """What something goes next to/beside/near."""
    along: str | None
    """What something goes down/along/across."""
    off: str | None
    """What something goes off of ('edge' when only "the edge" is said)."""
    new: Phrase | None
    """The first new body ("a rubber ball"), if any."""
    unknown: list[str]
    """Referents that match no entity ("box" for "push the box" with no box)."""
    colour: str | None
    """A colour word outside the referring phrases ("paint the ball red" -> red)."""
    toward_camera: bool
    """Whether the action points at the viewer ("at the camera", "toward me")."""
    candidates: list[str]
    """Every entity the action names, in order (the model's choices for the target)."""
    ambiguous: bool = False
    """Whether the target phrase is a singular noun that still names several bodies."""


def vocabulary(state: WorldState) -> dict[str, EntityWords]:
    return {eid: _entity_words(eid, e) for eid, e in state.entities.items()}


def _entity_words(eid: str, e: EntityState) -> EntityWords:
    id_words = [w for w in tokens(eid) if not w.isdigit()]
    desc = [w for w in tokens(e.description) if w not in _DESC_STOP]
    cut = tokens(e.description)
    for i, w in enumerate(cut):
        if w in _CUT:
            cut = cut[:i]
            break
    nouns = [w for w in cut if w not in _DESC_STOP and w not in NON_OBJECT and w not in SPATIAL]
    heads = set(id_words) | ({singular(nouns[-1])} if nouns else set())
    heads |= {SYNONYMS[h] for h in heads if h in SYNONYMS}
    colours = {colour_name(e.color)} | {c for w in desc if (c := colour_word(w))}
    m = re.search(r"(\d+)$", eid)
    family = re.sub(r"[-_]?\d+$", "", eid)
    return EntityWords(eid, id_words[-1] if id_words else eid, frozenset(heads),
                       frozenset(set(id_words) | set(desc) | colours), frozenset(colours),
                       int(m.group(1)) if m else None, family)


def ground(state: WorldState, action: str, history: Sequence[str] = (), camera: CameraSpec | None = None) -> Grounding:
    """Resolve the action's noun phrases against `state`; `history` resolves 'it'."""
    vocab = vocabulary(state)
    axes = screen_axes(camera)
    toks = tokens(action)
    known = {h for ew in vocab.values() for h in ew.heads} | set(SPAWN_NOUNS) | set(KINDS) | GENERIC
    phrases = chunk(toks, known)
    for p in phrases:
        _resolve(p, vocab, state, axes)
    refine(phrases, state, axes)
    _other(phrases, state, history, camera)
    antecedent = None
    for p in phrases:
        if p.kind == "pronoun":
            p.ids = [antecedent] if antecedent else _from_history(state, history, camera)
            p.kind = "entity" if p.ids else "word"
        elif p.kind in ("entity", "group") and antecedent is None and p.ids:
            antecedent = p.ids[0]
    return _assemble(toks, phrases, state)


def _other(phrases: list[Phrase], state: WorldState, history: Sequence[str], camera: CameraSpec | None) -> None:
    """"the other ball": the candidates less the one the history (or the action) named last."""
    for k, p in enumerate(phrases):
        if "other" in p.words and p.kind in ("entity", "group") and len(p.ids) > 1:
            named = [i for q in phrases[:k] for i in q.ids[:1]] or _from_history(state, history, camera)
            rest = [i for i in p.ids if i not in named]
            if rest:
                p.ids, p.kind, p.ambiguous = rest, "entity", len(rest) > 1


def _from_history(state: WorldState, history: Sequence[str], camera: CameraSpec | None) -> list[str]:
    for text in reversed([h for h in history if h]):
        ids = [i for p in ground(state, text, (), camera).phrases if p.kind in ("entity", "group") for i in p.ids[:1]]
        if ids:
            return [ids[-1]]
    return []


def _resolve(p: Phrase, vocab: dict[str, EntityWords], state: WorldState, axes: ScreenAxes) -> None:
    if p.words[-1] in PRONOUNS:
        p.kind = "pronoun"
        return
    words = [w.removesuffix("'s") for w in p.words]
    content = [w for w in words if not w[0].isdigit() and w != "number"]
    if len(content) > 1 and (content[-1] in SPATIAL or content[-1] == "top"):
        content = content[:-1]  # "the table top" is the table
    if not content:
        return
    if content[-1] in SUPERLATIVES and p.det in DEFINITE:
        content = content + ["one"]  # "the heaviest": the heaviest one
    head, last = singular(content[-1]), content[-1]
    mods = content[:-1]
    numbers = [int(float(w)) for w in words if w[0].isdigit()]
    if p.of is not None and is_selector(last):
        _resolve(p.of, vocab, state, axes)
        if head in ("edge", "side", "end") and p.of.ids:
            p.kind, p.ids = "edge", p.of.ids[:1]
        elif p.of.ids:
            chosen = p.of.ids if head in ("one", "rest") or head in GROUP_NOUNS else _select(head, p.of.ids, state, vocab, axes)
            p.kind, p.ids = ("entity", chosen) if chosen else ("unknown", [])
        return
    if head in ("floor", "ground"):
        p.kind = "floor"
    elif head in ("edge", "side"):
        p.kind = "edge"
    elif head in ("camera", "viewer", "me", "us", "lens", "audience"):
        p.kind = "camera"
    else:
        _resolve_noun(p, head, last, mods, numbers, vocab, state, axes)


def _resolve_noun(p: Phrase, head: str, last: str, mods: list[str], numbers: list[int],
                  vocab: dict[str, EntityWords], state: WorldState, axes: ScreenAxes) -> None:
    matched = _match_head(head, vocab, state)
    group = any(m in QUANTIFIERS for m in mods) or head in QUANTIFIERS
    if last != head and p.det in DEFINITE:  # "the two flower pots": a count of the group, not pot number 2
        p.take = next((NUMBERS[m] for m in mods if m in NUMBERS and m != "one"), 0)
        mods = [m for m in mods if m not in NUMBERS]
        numbers = []
    if "both" in mods or head == "both":  # "both fruits" among three: which two?
        p.take = 2
    mods = [m for m in mods if m not in QUANTIFIERS and m != "other"]
    if not matched and head in GROUP_NOUNS:
        matched, group = _family_group(mods, vocab), True
    if not matched:
        matched = of_kind(head, {i: ew.heads for i, ew in vocab.items()}, state) or []
    if matched:
        narrowed = _narrow(matched, mods, numbers, vocab, state, axes, p.take)
        if p.take > 1 and len(narrowed) > p.take:  # "the two blocks" among four, "both fruits" among three
            p.kind, p.ids, p.ambiguous = "entity", narrowed, True
        elif p.det in INDEFINITE or p.count > 1:
            p.kind, p.ids = "new", narrowed  # "a blue cube": a new body, whatever is there already
        elif not narrowed:
            p.kind = "unknown"
        else:
            plural = (last != head and last not in ("glass", "dominoes") and not last.endswith("ss")) or last == "dominoes"
            p.kind = "group" if (group or plural) and len(narrowed) > 1 else "entity"
            p.ambiguous = p.kind == "entity" and len(narrowed) > 1
            centre = _central(narrowed, state)
            p.ids = [centre] + [i for i in narrowed if i != centre]
        return
    if (p.det in INDEFINITE or p.count > 1) and head in SPAWN_NOUNS:
        p.kind = "new"
    elif head in AGENTS or last in AGENTS:
        p.kind = "agent"
    elif head in NON_OBJECT or head in SPATIAL or head in ORDINALS or colour_word(head) or VERB_WORD.match(last):
        p.kind = "word"
    elif p.det in INDEFINITE or p.count > 1:
        p.kind = "new"
    elif p.det in DEFINITE or head in SPAWN_NOUNS:
        p.kind = "unknown"


def _match_head(head: str, vocab: dict[str, EntityWords], state: WorldState) -> list[str]:
    alt = SYNONYMS.get(head)
    exact = [i for i, ew in vocab.items() if ew.primary == head]
    if exact:
        return exact  # "the block" is a block, not also the cube its synonym would name
    primary = [i for i, ew in vocab.items() if ew.primary == alt]
    if primary:
        return primary
    named = [i for i, ew in vocab.items() if head in ew.heads]
    if named:
        return named
    shape = SHAPE_WORDS.get(head)
    if shape is None:
        return []
    out = []
    for i, e in state.entities.items():
        if e.shape == shape and (head != "cube" or max(e.size) <= 1.4 * min(e.size)):
            out.append(i)
    return out


def _family_group(mods: list[str], vocab: dict[str, EntityWords]) -> list[str]:
    """The members of the largest family (same id without its number) with 2 or more members."""
    families = Counter(ew.family for ew in vocab.values() if ew.number is not None)
    if mods:
        named = {ew.family for ew in vocab.values() if any(m in ew.heads for m in mods)}
        families = Counter({f: c for f, c in families.items() if f in named}) or families
    best = [f for f, c in families.most_common() if c >= 2]
    if not best:
        return []
    return [i for i, ew in vocab.items() if ew.family == best[0]]


def _narrow(ids: list[str], mods: list[str], numbers: list[int], vocab: dict[str, EntityWords],
            state: WorldState, axes: ScreenAxes, take: int = 0) -> list[str]:
    """Those of `ids` the modifiers keep; a selector keeps the one it picks, or the `take` it ranks
    first ("the two lowest blocks")."""
    selectors = []
    for k, w in enumerate(mods):
        nxt = mods[k + 1] if k + 1 < len(mods) else ""
        if w in ("left", "right") and nxt == "most":
            selectors.append(w + "most")
        elif w in SUPERLATIVES:
            selectors.append(w)
        elif w in ORDINALS or w in SPATIAL or w in ("left", "right", "front", "back", "rear", "far"):
            selectors.append(w)
        elif w in NUMBERS and w != "one":
            numbers.append(NUMBERS[w])
        elif (c := colour_word(w)) is not None:
            ids = [i for i in ids if c in vocab[i].colours]
        elif w in COLOURS:
            continue
        elif any(w in vocab[i].words for i in ids):
            ids = [i for i in ids if w in vocab[i].words]
        if not ids:
            return []
    for n in numbers:
        ids = [i for i in ids if vocab[i].number == n]
    for k, sel in enumerate(selectors):
        last_one = k == len(selectors) - 1  # "the two leftmost red crates": the count applies to the last pick
        ids = _select(sel, ids, state, vocab, axes, max(1, take) if last_one else 1) if ids else ids
    return ids


_SEL_ALIAS = {"left": "leftmost", "right": "rightmost", "front": "nearest", "back": "farthest",
              "rear": "farthest", "far": "farthest"}


def _select(word: str, ids: list[str], state: WorldState, vocab: dict[str, EntityWords], axes: ScreenAxes,
            take: int = 1) -> list[str]:
    """The entity among `ids` that an ordinal, spatial word or superlative picks, or the `take` it
    ranks first ("the two heaviest", "the first three", "the last two")."""
    if len(ids) <= take:
        return ids
    pos = {i: state.entities[i].position for i in ids}
    if word in SUPERLATIVES:
        if take == 1:
            return extreme(state, ids, word)
        what, sign = SUPERLATIVES[word]
        value = {i: sign * measure(state, i, what) for i in ids}
        order = sorted(ids, key=lambda i: -value[i])
        cut = value[order[take - 1]] - 1e-9 * max(1.0, abs(value[order[take - 1]]))
        return [i for i in order if value[i] >= cut]  # a tie across the cut keeps all tied: ask which
    if word in ORDINALS:
        k = ORDINALS[word]
        if all(vocab[i].number is not None for i in ids):
            order = sorted(ids, key=lambda i: vocab[i].number)
        else:
            order = sorted(ids, key=lambda i: axes.screen_x(pos[i]))
        return order[-take:] if k == -1 else order[k - 1 : k - 1 + take]
    sel = SPATIAL.get(word) or _SEL_ALIAS.get(word, word)
    key = {
        "top": lambda i: -pos[i][2], "bottom": lambda i: pos[i][2], "leftmost": lambda i: axes.screen_x(pos[i]),
        "rightmost": lambda i: -axes.screen_x(pos[i]), "nearest": lambda i: axes.depth(pos[i]),
        "farthest": lambda i: -axes.depth(pos[i]),
    }.get(sel)
    if key is not None:
        return sorted(ids, key=key)[:take]
    if sel == "middle":
        zs = [p[2] for p in pos.values()]
        xs = [axes.screen_x(p) for p in pos.values()]
        by_height = max(zs) - min(zs) > max(xs) - min(xs)
        order = sorted(ids, key=(lambda i: pos[i][2]) if by_height else (lambda i: axes.screen_x(pos[i])))
        return [order[(len(order) - 1) // 2]]
    return ids


def _central(ids: list[str], state: WorldState) -> str:
    """The member nearest the members' centroid (the one to aim at when a group is named)."""
    pts = [state.entities[i].position for i in ids]
    c = [sum(p[k] for p in pts) / len(pts) for k in range(3)]
    return min(ids, key=lambda i: math.dist(state.entities[i].position, c))


def _joined(toks: list[str], phrases: list[Phrase], first: Phrase) -> list[str]:
    """Bodies joined to the target by "and" ("the apple and the pear", "both the ball and the cube")."""
    out, prev = [], first
    for q in phrases[phrases.index(first) + 1:]:
        between = toks[prev.end:q.start]
        if q.relation is not None or q.kind not in ("entity", "group") or not q.ids or between not in (["and"], [","], [",", "and"]):
            break
        out += q.ids if q.kind == "group" else q.ids[:1]
        prev = q
    return out


def _assemble(toks: list[str], phrases: list[Phrase], state: WorldState) -> Grounding:
    refs = [p for p in phrases if p.kind in ("entity", "group") and p.ids]
    target_phrase = next((p for p in refs if p.relation is None), None)
    out = Grounding(phrases=phrases, target=None, target_group=[], support=None, aim=None, near=None, along=None,
                    off=None, new=next((p for p in phrases if p.kind == "new"), None),
                    unknown=[p.text for p in phrases if p.kind == "unknown"], colour=None, toward_camera=False,
                    candidates=list(dict.fromkeys(i for p in refs for i in p.ids[:1])))
    if target_phrase is not None:
        out.target = target_phrase.ids[0]
        out.target_group = list(target_phrase.ids) if target_phrase.kind == "group" else []
        out.ambiguous = target_phrase.ambiguous
        joined = _joined(toks, phrases, target_phrase)
        if joined:
            out.target_group = list(dict.fromkeys((out.target_group or [out.target]) + joined))
    for p in phrases:
        rep = p.ids[0] if p.ids else None
        if p.relation == "support" and out.support is None and (p.kind == "floor" or rep):
            out.support = "floor" if p.kind == "floor" else rep
        elif p.relation == "aim" and p.kind == "camera":
            out.toward_camera = True
        elif p.relation == "aim" and rep and p.kind in ("entity", "group") and out.aim is None:
            out.aim = rep
        elif p.relation == "near" and rep and out.near is None:
            out.near = rep
        elif p.relation == "along" and rep and out.along is None:
            out.along = rep
        elif p.relation == "off" and rep and out.off is None:
            out.off = rep
        if p.kind == "edge" and out.off is None:
            out.off = rep or "edge"
    busy = {k for p in phrases if p.kind in ("entity", "group", "unknown", "new", "pronoun") for k in range(p.start, p.end)}
    free = [c for k, t in enumerate(toks) if k not in busy and (c := colour_word(t))]
    out.colour = free[-1] if free else None
    return out
