"""The grammar reader: a prompt to a scene intent, with the template catalogue as its nouns.

Deterministic and fast. It finds noun phrases (count, size, colour, material, thing), the relation
words between them, the ground, the light, a first action, and the words only the renderer can show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.planner import COLOUR_SYNONYMS, COLOURS
from agent.worlds import words as W
from agent.worlds.intent import SceneIntent, Thing
from agent.worlds.nouns import catalogue_noun, match_noun, primitive_template

TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[,.;:!?]")
_STOP = set(W.PEOPLE) | set(W.PLACE_NOUNS) | set(W.RENDERER_ONLY) | set(W.GROUNDS) | set(W.LIGHTING)


@dataclass
class Mention:
    """A noun phrase naming a thing."""

    template: str
    start: int
    end: int
    count: int | None = None
    plural: bool = False
    color: str | None = None
    material: str | None = None
    scale: float = 1.0
    definite: bool = False
    ref: str = ""
    words: list[str] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    noun: str = ""
    """The everyday object's name when it comes from the object catalogue (built from a primitive)."""

    @property
    def kind(self) -> str:
        """What makes two mentions the same kind of thing: the object's name, else the template."""
        return self.noun or self.template


def tokenize(prompt: str) -> list[str]:
    return TOKEN.findall(prompt.lower().replace("-", " ").replace("'s", ""))


def _colour(word: str) -> str | None:
    word = COLOUR_SYNONYMS.get(word, word)
    return word if word in COLOURS else None


def _is_modifier_ahead(tokens: list[str], i: int) -> bool:
    """Whether the material/noun word at `i` modifies what follows ('glass ball', not 'a glass')."""
    j = i + 1
    return j < len(tokens) and (match_noun(tokens, j) is not None or tokens[j] in W.SIZES or _colour(tokens[j]))


def find_mentions(tokens: list[str]) -> tuple[list[Mention], list[str]]:
    """The noun phrases naming catalogue things, and the unknown nouns named after a determiner."""
    mentions, unknown = [], []
    mods: dict = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        noun = match_noun(tokens, i)
        if noun and noun[2] == 1 and tok in W.MATERIAL_WORDS and _is_modifier_ahead(tokens, i):
            noun = None  # 'glass ball', 'brick wall': the material of what follows
        if noun:
            name, many, used = noun
            mentions.append(Mention(template=name, start=mods.get("start", i), end=i + used, plural=many,
                                    count=mods.get("count"), color=mods.get("color"), material=mods.get("material"),
                                    scale=mods.get("scale", 1.0), definite=mods.get("definite", False),
                                    words=tokens[mods.get("start", i):i + used]))
            mods, i = {}, i + used
            continue
        known = catalogue_noun(tokens, i) if mods.get("expect") and not _is_modifier(tok) and tok not in _STOP else None
        if known is not None:
            mentions.append(_known(known, tokens, i, mods))
            mods, i = {}, i + known[2]
            continue
        if not _modify(mods, tok, i) and mods.get("expect") and tok.isalpha() and tok not in _STOP and len(tok) > 2:
            if not any(tok in table for table in (W.RELATION_PHRASES_FLAT, W.ACTION_WORDS, W.DIRECTIONS)):
                unknown.append(tok)
            mods = {}
        elif not mods.get("touched"):
            mods = {}
        mods.pop("touched", None)
        i += 1
    return mentions, unknown


def _is_modifier(tok: str) -> bool:
    """A count, colour, material, size or determiner word (it modifies the noun after it)."""
    return (tok in W.COUNTS or tok.isdigit() or bool(_colour(tok)) or tok in W.MATERIAL_WORDS or tok in W.SIZES
            or tok in W.DETERMINERS)


def _known(known, tokens: list[str], i: int, mods: dict) -> Mention:
    """A mention of an everyday object from the catalogue, built as a primitive at its real size."""
    obj, many, used = known
    template, params = primitive_template(obj)
    return Mention(template=template, start=mods.get("start", i), end=i + used, plural=many, count=mods.get("count"),
                   color=mods.get("color") or obj.colour, material=mods.get("material") or obj.material,
                   scale=mods.get("scale", 1.0), definite=mods.get("definite", False),
                   words=tokens[mods.get("start", i):i + used], params=params, noun=obj.name)


def _modify(mods: dict, tok: str, i: int) -> bool:
    """Fold a modifier word into `mods`; False when `tok` modifies nothing."""
    mods.setdefault("start", i)
    if tok in W.COUNTS or tok.isdigit():
        value = W.COUNTS.get(tok) or int(tok)
        if not (tok in ("a", "an") and mods.get("count")):
            mods["count"] = value if 1 <= value <= 12 else mods.get("count")
    elif _colour(tok):
        mods["color"] = _colour(tok)
    elif tok in W.MATERIAL_WORDS:
        mods["material"] = W.MATERIAL_WORDS[tok]
    elif tok in W.SIZES:
        mods["scale"] = mods.get("scale", 1.0) * W.SIZES[tok]
    elif tok in W.DETERMINERS:
        mods["definite"] = mods.get("definite") or tok in ("the", "this", "that", "these", "those")
    else:
        if "count" not in mods and "color" not in mods and "material" not in mods and "scale" not in mods:
            mods.clear()
        return False
    mods["expect"] = mods["touched"] = True
    return True


def assign_refs(mentions: list[Mention]) -> None:
    """A definite mention of a thing named before is that thing; every other mention is new."""
    seen: dict[str, int] = {}
    last: dict[str, Mention] = {}
    for m in mentions:
        kind = m.kind
        if m.definite and kind in last and not m.plural:
            m.ref = last[kind].ref
            continue
        seen[kind] = seen.get(kind, 0) + 1
        base = re.sub(r"[^a-z0-9]+", "-", kind).strip("-")
        m.ref = base if seen[kind] == 1 else f"{base}-{seen[kind]}"
        last[kind] = m


def read_prompt(prompt: str) -> SceneIntent:
    """The scene intent of `prompt`, read by the grammar."""
    from agent.worlds.relations import find_action, find_relations

    tokens = tokenize(prompt)
    mentions, unknown = find_mentions(tokens)
    assign_refs(mentions)
    things, assumptions = _things(mentions)
    relations = find_relations(tokens, mentions)
    things = _open_containers(things, relations)
    action = find_action(tokens, mentions)
    ground, lighting = _ground_and_light(tokens)
    renderer = sorted({t for t in tokens if t in W.RENDERER_ONLY})
    return SceneIntent(prompt=prompt, things=things, relations=relations, ground=ground, lighting=lighting,
                       action=action, renderer_only=renderer, unknown=sorted(set(unknown)), assumptions=assumptions)


def _things(mentions: list[Mention]) -> tuple[list[Thing], list[str]]:
    out: dict[str, Thing] = {}
    notes = []
    for m in mentions:
        count = m.count or 1
        if m.plural and m.count is None:
            count = 3
            notes.append(f"no number given for the {m.words[-1]}: 3")
        if m.ref in out:
            old = out[m.ref]
            out[m.ref] = old.model_copy(update={"color": m.color or old.color, "material": m.material or old.material})
            continue
        out[m.ref] = Thing(ref=m.ref, template=m.template, count=count, material=m.material, color=m.color,
                           scale=min(max(m.scale, 0.2), 5.0), words=" ".join(m.words), params=m.params,
                           noun=m.noun)
    return list(out.values()), notes


OPEN_VARIANT = {"box": "carton"}
"""A thing something is put in, and the open template of it ('a box with a ball inside')."""


def _open_containers(things: list[Thing], relations) -> list[Thing]:
    holders = {r.object for r in relations if r.kind == "in"}
    return [t.model_copy(update={"template": OPEN_VARIANT[t.template]})
            if t.ref in holders and t.template in OPEN_VARIANT else t for t in things]


def _ground_and_light(tokens: list[str]) -> tuple[str, str]:
    ground = next((W.GROUNDS[t] for t in tokens if t in W.GROUNDS), None)
    for a, b in zip(tokens, tokens[1:]):
        if a in W.MATERIAL_GROUNDS and b in W.PLACE_NOUNS:
            ground = W.MATERIAL_GROUNDS[a]
    lighting = next((W.LIGHTING[t] for t in tokens if t in W.LIGHTING and W.LIGHTING[t] != "indoors"), None)
    indoors = next((t for t in tokens if W.LIGHTING.get(t) == "indoors"), None)
    if ground is None and indoors:
        ground = W.INDOOR_GROUND.get(indoors, "floor")
    return ground or "floor", lighting or ("indoors" if indoors else "day")
