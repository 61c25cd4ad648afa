"""Questions about the world, answered from the state; a question never changes anything.

"how many blocks are there?", "what is on the table?", "what colour is the pear?", "where did the
ball go?", "which fruit is the heaviest?", "is the tennis ball in the bin?", "what is next to the
ball?", "how heavy is the top block?". The answer uses grounding (so every referring expression the
planner knows works in a question too) and the relations of :mod:`agent.planner.narration.describe`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.planner.narration.describe import colour_name
from agent.planner.words.grounding import ground
from agent.planner.words.lexicon import NUMBERS, normalised, singular, tokens
from agent.planner.words.refer import SUPERLATIVES, extreme
from simulator.bounds import entity_box
from simulator.scene import CameraSpec
from simulator.state import WorldState

_QUESTION = re.compile(r"^(?:what|what's|whats|how|where|which|who|why|is|are|does|do|did|was|were|has|have|"
                       r"can you tell|tell me|list|describe|count)\b")
_REQUEST = re.compile(r"^(?:can|could|would|will) you\b|^please\b")
_WORDS = {n: w for w, n in NUMBERS.items()}


def is_question(action: str) -> bool:
    """A question about the world (not a polite request such as "could you push the ball?")."""
    text = normalised(action)
    if _REQUEST.match(text):
        return False
    return bool(_QUESTION.match(text)) or action.strip().endswith("?")


def _name(eid: str) -> str:
    return f"the {eid.replace('-', ' ')}"


def _listing(ids: list[str]) -> str:
    names = [_name(i) for i in ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _resting_on(state: WorldState, support: str) -> list[str]:
    sb = entity_box(state.entities[support])
    out = []
    for i, e in state.entities.items():
        b = entity_box(e)
        if i != support and not e.fixed and abs(b.lo[2] - sb.hi[2]) < 0.03 and \
                all(sb.lo[k] - 0.01 <= e.position[k] <= sb.hi[k] + 0.01 for k in (0, 1)):
            out.append(i)
    return out


def _where(state: WorldState, eid: str) -> str:
    b = entity_box(state.entities[eid])
    below = [i for i in state.entities if i != eid and eid in _resting_on(state, i)]
    if below:
        return f"{_name(eid).capitalize()} is on {_name(below[0])}."
    if b.lo[2] < 0.03:
        return f"{_name(eid).capitalize()} is on the floor."
    return f"{_name(eid).capitalize()} is {b.lo[2]:.2f} m above the floor."


def answer(state: WorldState, action: str, history: Sequence[str] = (), camera: CameraSpec | None = None) -> str:
    """A one- or two-sentence answer from the state, ending with a bracketed note that nothing was done
    (brackets claim nothing to the faithfulness check: bodies already moving keep moving)."""
    text = normalised(action)
    g = ground(state, action, history, camera)
    refs = [p for p in g.phrases if p.kind in ("entity", "group") and p.ids]
    body = _answer(state, text, g, refs)
    return f"{body} (A question: I changed nothing.)"


def _answer(state: WorldState, text: str, g, refs) -> str:
    if text.startswith("how many"):
        head = singular(tokens(text)[2]) if len(tokens(text)) > 2 else ""
        p = next((p for p in g.phrases if p.head == head), None)
        ids = p.ids if p is not None and p.kind in ("entity", "group") else []
        n = len(ids)
        word = _WORDS.get(n, str(n))
        return f"There {'is' if n == 1 else 'are'} {word} ({n}) {head}{'' if n == 1 else 's'}." if n else \
            f"There are no {head}s here."
    if re.search(r"\bcolou?r\b", text) and refs:
        e = refs[0].ids[0]
        return f"{_name(e).capitalize()} is {colour_name(state.entities[e].color)} ({state.entities[e].color})."
    if re.search(r"\b(?:heavy|weigh\w*|mass)\b", text) and refs:
        e = refs[0].ids[0]
        return f"{_name(e).capitalize()} weighs {state.entities[e].mass:g} kg."
    if text.startswith("where") and refs:
        return _where(state, refs[0].ids[0])
    if re.search(r"\b(?:on|on top of)\b", text) and text.startswith(("what", "which", "who")):
        support = next((p for p in g.phrases if p.relation == "support" and p.ids), None) or (refs[-1] if refs else None)
        if support is not None:
            sid = support.ids[0]
            if "top" in text and support.kind == "group":
                top = max(support.ids, key=lambda i: state.entities[i].position[2])
                return f"On top is {_name(top)} ({colour_name(state.entities[top].color)})."
            on = _resting_on(state, sid)
            return f"On {_name(sid)}: {_listing(on)}." if on else f"Nothing is on {_name(sid)}."
    if re.search(r"\b(?:next to|beside|near)\b", text) and refs:
        e = refs[-1].ids[0]
        others = [i for i in state.entities if i != e and not state.entities[i].fixed]
        if others:
            near = min(others, key=lambda i: entity_box(state.entities[i]).gap(entity_box(state.entities[e])))
            return f"Next to {_name(e)} is {_name(near)}."
    if text.startswith(("is ", "are ")) and len(refs) >= 2 and re.search(r"\b(?:in|inside|on)\b", text):
        a, container = refs[0].ids[0], refs[1].ids
        b = entity_box(state.entities[container[0]])
        for i in container[1:]:
            c = entity_box(state.entities[i])
            b = type(b)(tuple(min(b.lo[k], c.lo[k]) for k in range(3)), tuple(max(b.hi[k], c.hi[k]) for k in range(3)))
        p = state.entities[a].position
        inside = all(b.lo[k] <= p[k] <= b.hi[k] for k in (0, 1)) and p[2] <= b.hi[2] + 0.05
        return f"{'Yes' if inside else 'No'}: {_where(state, a)}"
    sup = next((t for t in tokens(text) if t in SUPERLATIVES), None)
    if sup and refs:
        best = extreme(state, refs[0].ids, sup)
        if len(best) == 1:
            return f"The {sup} one is {_listing(best)}."
        everyone = "They all tie" if len(best) == len(refs[0].ids) else "There is a tie"
        return f"{everyone} for {sup}: {_listing(best)}."
    if refs and (refs[0].kind == "entity"):
        e = refs[0].ids[0]
        return f"That is {_name(e)} ({state.entities[e].description or state.entities[e].shape}). {_where(state, e)}"
    free = [i for i, e in state.entities.items() if not e.fixed]
    return f"The scene has {_listing(free) if free else 'only fixed scenery'}."
