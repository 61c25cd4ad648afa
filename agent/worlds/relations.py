"""Relations between the things a prompt names, and its first action, read from the words between
the noun phrases (see :mod:`agent.worlds.reader`)."""

from __future__ import annotations

from agent.worlds import words as W
from agent.worlds.intent import FirstAction, Relation

SENTENCE_END = {".", ";", "!", "?"}
POSITIONAL = {"on", "in", "next_to", "in_front_of", "behind", "under", "leaning_on", "around"}
GROUPED = {"stacked", "in_a_row"}
TRAILING = {"in", "on", "under", "behind", "next_to", "in_front_of"}
"""Relations that may end a phrase and point back at its host: 'a box with a ball inside'."""


def _phrase_at(tokens: list[str], i: int, table: dict) -> tuple[str, int] | None:
    for n in (5, 4, 3, 2, 1):
        key = tuple(tokens[i:i + n])
        if len(key) == n and key in table:
            return table[key], n
    return None


def _sentence(tokens: list[str], i: int) -> int:
    """The index of the sentence that token `i` belongs to."""
    return sum(1 for t in tokens[:i] if t in SENTENCE_END)


def _groups(tokens: list[str], mentions) -> list[list]:
    """Mentions joined by 'and' or commas only ('a ball and a cup on the table')."""
    groups: list[list] = []
    for k, m in enumerate(mentions):
        gap = tokens[mentions[k - 1].end:m.start] if k else None
        joined = bool(gap) and all(t in ("and", ",", "as", "well") for t in gap)
        if joined and "and" not in gap and _placed_by(tokens, mentions[k - 1]):
            joined = False  # "... on a table, a lemon next to the ball": the comma starts a new clause
        if joined:
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _placed_by(tokens: list[str], m) -> bool:
    """Whether a positional relation leads straight to mention `m` ("on a table"): it is the place
    of what came before, not the first of a list."""
    for j in range(max(0, m.start - 4), m.start + 1):
        hit = _phrase_at(tokens, j, W.RELATION_PHRASES)
        if hit and hit[0] in POSITIONAL and j + hit[1] <= m.start and _leads_to(tokens, j + hit[1], m.start):
            return True
    return False


def find_relations(tokens: list[str], mentions) -> list[Relation]:
    """Every relation the words state, at most one positional relation per thing."""
    found: list[tuple[int, Relation]] = []  # (priority, relation); lower wins
    groups = _groups(tokens, mentions)
    for gi, group in enumerate(groups):
        last = group[-1]
        nxt = groups[gi + 1][0] if gi + 1 < len(groups) else None
        if nxt and _sentence(tokens, nxt.start) != _sentence(tokens, last.end - 1):
            nxt = None
        end = nxt.start if nxt else next((j for j in range(last.end, len(tokens)) if tokens[j] in SENTENCE_END),
                                         len(tokens))
        found += _leading(tokens, group, mentions)
        found += _between(tokens, group, last.end, end, nxt, mentions)
    return _resolve(found)


def _leading(tokens, group, mentions) -> list[tuple[int, Relation]]:
    """'a stack of three blocks', 'a row of dominoes'; 'On the table, a cup and a ball.'"""
    out = []
    first = group[0]
    for j in range(max(0, first.start - 3), first.start + 1):
        hit = _phrase_at(tokens, j, W.RELATION_PHRASES)
        if hit and hit[0] in GROUPED and tokens[j + hit[1]:j + hit[1] + 1] == ["of"]:
            out += [(0, Relation(kind=hit[0], subject=m.ref)) for m in group]
        elif hit and hit[0] in POSITIONAL and j + hit[1] <= first.start + 1:
            before = [m for m in mentions if m.end <= j and _sentence(tokens, m.start) == _sentence(tokens, j)]
            if not before:
                later = [m for m in mentions if m.start > first.end and
                         _sentence(tokens, m.start) == _sentence(tokens, first.start)]
                out += [(2, Relation(kind=hit[0], subject=m.ref, object=first.ref)) for m in later]
    return out


def _between(tokens, group, start, end, nxt, mentions) -> list[tuple[int, Relation]]:
    out = []
    j = start
    while j < end:
        hit = _phrase_at(tokens, j, W.RELATION_PHRASES)
        if not hit:
            j += 1
            continue
        kind, used = hit
        after = tokens[j + used:j + used + 1]
        if kind in GROUPED or kind == "side_by_side":
            out += _grouped(kind, group)
        elif kind == "holds" and nxt is not None:
            out.append((1, Relation(kind="in", subject=nxt.ref, object=group[-1].ref)))
        elif kind in TRAILING and nxt is None and _host(group, mentions) is not None and \
                all(t in SENTENCE_END or t == "," for t in tokens[j + used:end]):
            out += [(1, Relation(kind=kind, subject=m.ref, object=_host(group, mentions).ref)) for m in group]
        elif after and after[0] in ("it", "them", "its"):
            host = [m for m in mentions if m.end <= group[0].start]
            if host:
                out += [(1, Relation(kind=kind, subject=m.ref, object=host[-1].ref)) for m in group]
        elif tokens[j] == "with" and nxt is not None:
            out.append((3, Relation(kind="next_to", subject=nxt.ref, object=group[0].ref)))
        elif kind in POSITIONAL and nxt is not None and _leads_to(tokens, j + used, nxt.start):
            out += [(1, Relation(kind=kind, subject=m.ref, object=nxt.ref)) for m in group if m.ref != nxt.ref]
        elif kind == "around":
            out += [(0, Relation(kind="in_a_row", subject=m.ref)) for m in group]
        j += used
    return out


def _grouped(kind: str, group) -> list[tuple[int, Relation]]:
    """A stack or row of one thing's copies; of several things named together, a chain: each on
    (or next to) the one before."""
    if len(group) == 1:
        return [(0, Relation(kind=kind, subject=group[0].ref))] if kind != "side_by_side" else []
    if kind == "stacked":
        return [(0, Relation(kind="on", subject=b.ref, object=a.ref)) for a, b in zip(group, group[1:])]
    return [(1, Relation(kind="next_to", subject=b.ref, object=a.ref)) for a, b in zip(group, group[1:])]


def _host(group, mentions):
    """The thing named just before `group` (what 'with' attaches it to), or None."""
    before = [m for m in mentions if m.end <= group[0].start]
    return before[-1] if before else None


def _leads_to(tokens: list[str], i: int, start: int) -> bool:
    """Whether only determiners and modifiers stand between token `i` and a noun phrase at `start`
    (the mention's own start may already include them)."""
    return all(t in W.DETERMINERS or t in W.COUNTS or t in W.SIZES or t in W.MATERIAL_WORDS or t in W.GROUNDS
               for t in tokens[i:start])


def _resolve(found: list[tuple[int, Relation]]) -> list[Relation]:
    """One positional relation per subject (the most specific), grouped ones kept; no self-relations."""
    best: dict[str, tuple[int, Relation]] = {}
    grouped: dict[tuple[str, str], Relation] = {}
    for prio, rel in found:
        if rel.object == rel.subject:
            continue
        if rel.kind in GROUPED:
            grouped[(rel.subject, rel.kind)] = rel
        elif rel.subject not in best or prio < best[rel.subject][0]:
            best[rel.subject] = (prio, rel)
    return list(grouped.values()) + [r for _, r in best.values()]


def find_action(tokens: list[str], mentions) -> FirstAction | None:
    """The first action the prompt states, on the thing it names (None when none is stated)."""
    for j in range(len(tokens)):
        hit = _phrase_at(tokens, j, W.ACTION_PHRASES)
        if not hit:
            continue
        verb, used = hit
        sentence = _sentence(tokens, j)
        same = [m for m in mentions if _sentence(tokens, m.start) == sentence]
        before = [m for m in same if m.end <= j]
        after = [m for m in same if m.start >= j + used]
        if not before and not after:
            continue
        target, toward = (before[-1], after[0] if after else None) if before else (
            after[0], after[1] if len(after) > 1 else None)
        tail = tokens[max(j + used, target.end):]
        if toward is target:
            toward = after[1] if len(after) > 1 else None
        direction = next((W.DIRECTIONS[t] for t in tail[:6] if t in W.DIRECTIONS), None)
        if verb == "knock_over" and before and after:
            verb, direction = "roll", "toward"
        if toward is not None and direction != "toward" and not set(tail[:3]) & {"into", "at", "toward", "towards"}:
            toward = None
        if direction == "toward" and toward is None:
            direction = None
        later = _knocks_over(tokens, j + used, sentence, mentions)
        if later is not None and later is not target and verb in ("roll", "push", "kick"):
            toward, direction = later, "toward"
        return FirstAction(verb=verb, target=target.ref, direction=direction, toward=toward.ref if toward else None,
                           words=" ".join(t for k, t in enumerate(tokens)
                                          if _sentence(tokens, k) == sentence and t not in SENTENCE_END and t != ","))
    return None


def _knocks_over(tokens: list[str], start: int, sentence: int, mentions):
    """The thing a later 'knocks over X' in the same sentence names, or None."""
    for j in range(start, len(tokens)):
        hit = _phrase_at(tokens, j, W.ACTION_PHRASES)
        if hit and hit[0] == "knock_over" and _sentence(tokens, j) == sentence:
            return next((m for m in mentions if m.start >= j + hit[1] and _sentence(tokens, m.start) == sentence), None)
    return None
