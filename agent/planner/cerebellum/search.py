"""Goals from words, and the search that finds the least forceful push meeting them by imagining it.

:func:`goal_from_words` reads a push clause's goal into typed predicates of :mod:`simulator.goals`:

- "topple", "knock over/down", "make it fall" -> ``Topples`` (half the group, for a stack);
- "off the back edge", "off the table" -> ``EndsOff`` (the side in camera words when given);
- "until it touches / hits / reaches X", "up the ramp" -> ``Reaches`` (and, on a raised support,
  ``EndsOn`` it: the push must not carry the body over the edge);
- "barely", "slightly" -> ``Moves`` between 1 and 8 cm; "a little", "gently", "so it stays on",
  "stops before the edge" -> ``Moves`` at least 5 cm and ``EndsOn`` the support;
- a plain push of a body on a raised support -> ``Moves`` and ``EndsOn`` (a push is not a throw off
  the table), tried first at the strength's usual speed.

:func:`pursue` proposes candidates (which body, a small grid of directions), imagines each
(:class:`~agent.planner.cerebellum.imagination.Imagination`), and bisects the speed for the least
forceful one whose imagined outcome satisfies every predicate. When none does within the limits it
does nothing and says so. The step record keeps the goal, the candidates tried and the verdict.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from agent.planner.cerebellum.acted import Acted, compile_each
from agent.planner.cerebellum.compiler import PUSH_SPEED, push_direction, support_of
from agent.planner.cerebellum.imagination import Imagination
from agent.planner.narration.outcome import MOVE_MIN
from agent.planner.words.camera import screen_axes
from agent.planner.words.lexicon import normalised, strength_of
from agent.planner.words.program import Reading, Step
from simulator import goals as G
from simulator.bounds import entity_box
from simulator.scene import ApplyImpulseEvent, CameraSpec, Event, SetPropertyEvent
from simulator.state import WorldState

MAX_SPEED = 5.0
"""Fastest push the search tries (m/s)."""
MIN_SPEED = 0.05
"""Slowest push the search tries (m/s)."""
BISECTIONS = 6
"""Halvings of the speed interval per candidate (the answer is within 1/64 of the range)."""
_TOPPLE = re.compile(r"\b(?:topple\w*|knock\w* (?:\w+ ){0,3}?(?:over|down)|tip\w* (?:\w+ ){0,3}?over|"
                     r"bring\w* (?:\w+ ){0,3}?down|make (?:\w+ ){0,3}?(?:fall|collapse)\w*|collapse|push\w* (?:\w+ ){0,3}?over)\b")
_REACH = re.compile(r"\b(?:until|till|so that|so) (?:it |they )?(?:just )?(?:touch|hit|reach|bump|meet|tap)\w*\b|"
                    r"\buntil (?:it )?(?:is )?(?:against|at)\b")
_OFF = re.compile(r"\boff\b")
_SIDE = re.compile(r"\boff (?:the |of the )?(back|far|rear|front|near|left|right)\b|\b(back|far|rear|front|near|left|right)"
                   r" (?:edge|side|end)\b")
_BARELY = re.compile(r"\b(?:barely|hardly|slightly|a tiny bit|just a (?:bit|little)|a touch)\b")
_STAY = re.compile(r"\b(?:stays? on|stops? before|without (?:it )?falling|not fall|doesn't fall|does not fall|"
                   r"a little|a bit|gently|softly|carefully|lightly)\b")
UP = [0.1, 0.15, 0.2, 0.3, 0.4, 0.55, 0.7, 0.9, 1.2]
"""Speeds (m/s) tried for "barely": the first that moves the body 1 to 8 cm wins."""
SAFETY = [1.25, 1.1, 1.5, 2.0]
"""Multiples of the least speed meeting the first goal tried against all goals, in order."""
DOWN = [1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05]
"""Fractions of a strength's usual speed tried for a push that must stay on its support."""
FIRMER = [1.25, 1.6, 2.0, 2.5]
"""Multiples of a gentle push's speed tried (up to a normal push) when none moves a loaded body visibly."""
MODEL_GOALS: tuple[str, ...] = (G.Topples.model_fields["kind"].default, G.EndsOff.model_fields["kind"].default,
                                G.Reaches.model_fields["kind"].default)
"""Goal kinds a program step may name that a push pursues (the words state none)."""
_SIDES = {"back": "away", "far": "away", "rear": "away", "front": "toward", "near": "toward", "left": "left",
          "right": "right"}


@dataclass
class GoalSpec:
    """What a push must achieve, and where to look for it."""

    goals: list
    """simulator.goals predicates that must all hold."""
    bodies: list[str]
    """Bodies a candidate may push, in order of preference."""
    directions: list[tuple[float, float, float]]
    """Directions to try, in order."""
    ladder: list[float] = field(default_factory=list)
    """Speeds to try in this order (the first that works wins); empty: bisect for the least that works."""
    plain: bool = False
    """A plain push (no goal words): when nothing meets the goal, push as asked and say what imagining showed."""
    group: list[str] = field(default_factory=list)
    """Other bodies pushed with each candidate, the same way and as fast (a group push: "the two lowest blocks")."""
    relaxed: list = field(default_factory=list)
    """Looser predicates for the closest honest push when none meets `goals` ("gently" on a loaded
    block: it moves visibly, if less than asked, and stays on); empty: none."""
    firmer: list[float] = field(default_factory=list)
    """Speeds tried, upward, for the relaxed goal when the ladder's gentle ones move nothing visibly."""
    tried: list[dict] = field(default_factory=list)


def goal_from_words(state: WorldState, camera: CameraSpec | None, r: Reading) -> GoalSpec | None:
    """The goal of a push clause, or None (not a push, or nothing to check)."""
    if r.intent is None or r.intent.verb != "push" or not r.targets:
        return None
    text = normalised(r.text)
    if len(r.targets) > 1 and not _TOPPLE.search(text):
        return _group(state, camera, r, text)
    axes = screen_axes(camera)
    t = r.targets[0]
    base = push_direction(state, axes, r.intent.model_copy(update={"target": t}), t)
    said = r.intent.direction in ("left", "right", "toward", "away", "forward", "back", "at", "along")
    grid = [base] if said else [base] + [axes.vector(w) for w in ("right", "left", "away", "toward")]
    support = support_of(state, t)
    raised = _raised(state, support)
    if _TOPPLE.search(text) and not _OFF.search(text):
        return _topple(state, r, grid)
    if strength_of(text) == "hard" and not (_TOPPLE.search(text) or _OFF.search(text)):
        return None  # "as hard as you can": the user chose the force
    along = r.intent.direction == "along" and r.grounding.along not in (None, support)
    if _REACH.search(text) or along:
        other = r.grounding.aim or r.grounding.along or _last_other(r)
        if other and other in state.entities and other != t:
            goals = [G.Reaches(target=t, other=other)] + ([G.EndsOn(target=t, support=support)] if raised else [])
            q = state.entities[other].position
            p = state.entities[t].position
            d = _unit((q[0] - p[0], q[1] - p[1], 0.0))
            fan = [_turn(d, a) for a in (0.0, 0.25, -0.25, 0.5, -0.5)]  # around something in the way
            return GoalSpec(goals, [t], fan if any(d) else grid)
    if _OFF.search(text) and (r.grounding.off or support):
        off = r.grounding.off if r.grounding.off in state.entities else support
        m = _SIDE.search(text)
        side = axes.vector(_SIDES[m.group(1) or m.group(2)]) if m else None
        dirs = [side] if side else [_edge_direction(state, t, off)]
        return GoalSpec([G.EndsOff(target=t, support=off, side=side)], [t], dirs)
    if _BARELY.search(text):
        return GoalSpec([G.Moves(targets=[t], min_distance=0.01, max_distance=0.08)], [t], grid[:1], UP)
    if raised and strength_of(text) != "hard":
        return _stay_on(state, r, text, [t], grid[:1])
    return None


def _stay_on(state: WorldState, r: Reading, text: str, targets: list[str], grid) -> GoalSpec:
    """A push of bodies on a raised support: they move and stay on it, from the strength's speed down."""
    stays = [G.EndsOn(target=t, support=s) for t in targets if _raised(state, s := support_of(state, t))]
    top = PUSH_SPEED["gentle" if _STAY.search(text) else r.intent.strength]
    return GoalSpec([G.Moves(targets=targets, min_distance=0.05)] + stays, targets[:1], grid,
                    [top * k for k in DOWN], plain=not _STAY.search(text), group=targets[1:],
                    relaxed=[G.Moves(targets=targets, min_distance=MOVE_MIN)] + stays,
                    firmer=[top * k for k in FIRMER if top * k <= PUSH_SPEED["normal"] * 1.01])


def _raised(state: WorldState, support: str | None) -> bool:
    return support is not None and state.entities[support].fixed and entity_box(state.entities[support]).hi[2] > 0.1


def _group(state: WorldState, camera: CameraSpec | None, r: Reading, text: str) -> GoalSpec | None:
    """A group push ("push the two lowest blocks gently left"): all together, each staying on its
    raised support; None (compiled per body) when no body stands on one or the force was chosen."""
    if strength_of(text) == "hard" or _OFF.search(text) or _REACH.search(text) or _BARELY.search(text):
        return None
    if not any(_raised(state, support_of(state, t)) for t in r.targets):
        return None
    t = r.targets[0]
    d = push_direction(state, screen_axes(camera), r.intent.model_copy(update={"target": t}), t)
    return _stay_on(state, r, text, list(r.targets), [d])


def goal_from_model(state: WorldState, camera: CameraSpec | None, r: Reading) -> GoalSpec | None:
    """The goal a model's program step names (:data:`MODEL_GOALS`) for a push, or None."""
    if r.goal not in MODEL_GOALS or r.intent is None or r.intent.verb != "push" or not r.targets:
        return None
    t = r.targets[0]
    axes = screen_axes(camera)
    base = push_direction(state, axes, r.intent.model_copy(update={"target": t}), t)
    grid = [base] + [axes.vector(w) for w in ("right", "left", "away", "toward")]
    if r.goal == "topples":
        return _topple(state, r, grid)
    support = support_of(state, t)
    if r.goal == "ends_off" and support is not None:
        return GoalSpec([G.EndsOff(target=t, support=support)], [t], [_edge_direction(state, t, support)])
    other = r.intent.place
    if r.goal == "reaches" and other in state.entities and other != t:
        q, p = state.entities[other].position, state.entities[t].position
        d = _unit((q[0] - p[0], q[1] - p[1], 0.0))
        return GoalSpec([G.Reaches(target=t, other=other)], [t], [_turn(d, a) for a in (0.0, 0.25, -0.25)] if any(d)
                        else grid)
    return None


def _topple(state: WorldState, r: Reading, grid) -> GoalSpec:
    targets = list(r.targets)
    if len(targets) > 1:
        by_height = sorted(targets, key=lambda i: -state.entities[i].position[2])
        upper = by_height[: max(1, math.ceil(len(targets) / 2))]
        goal = G.Topples(targets=upper)
        low = len(upper) - 1  # the lowest body of the upper half first: pushing it brings down all above
        bodies = [by_height[low], by_height[min(low + 1, len(by_height) - 1)], by_height[0]]
        return GoalSpec([goal], list(dict.fromkeys(bodies)), grid)
    return GoalSpec([G.Topples(targets=targets)], targets, grid)


def _last_other(r: Reading) -> str | None:
    ids = [p.ids[0] for p in r.grounding.phrases if p.ids and p.kind in ("entity", "group", "ref")]
    return ids[-1] if len(ids) > 1 else None


def _edge_direction(state: WorldState, t: str, support: str) -> tuple[float, float, float]:
    p, b = state.entities[t].position, entity_box(state.entities[support])
    gaps = [(p[0] - b.lo[0], (-1.0, 0.0, 0.0)), (b.hi[0] - p[0], (1.0, 0.0, 0.0)),
            (p[1] - b.lo[1], (0.0, -1.0, 0.0)), (b.hi[1] - p[1], (0.0, 1.0, 0.0))]
    return min(gaps)[1]


def _turn(d, angle: float) -> tuple[float, float, float]:
    c, s = math.cos(angle), math.sin(angle)
    return (d[0] * c - d[1] * s, d[0] * s + d[1] * c, 0.0)


def _unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return tuple(x / n for x in v) if n > 1e-9 else (0.0, 0.0, 0.0)


def _events(state: WorldState, body: str, d, speed: float, group: tuple[str, ...] | list[str] = ()) -> list[Event]:
    """The push of `body` (and of the `group` with it) at `speed` along `d`."""
    out: list[Event] = []
    for b in [body, *group]:
        e = state.entities[b]
        if e.fixed:
            out.append(SetPropertyEvent(type="set_property", entity=b, fixed=False))
        out.append(ApplyImpulseEvent(type="apply_impulse", entity=b,
                                     impulse=tuple(round(x * e.mass * speed, 5) + 0.0 for x in d)))
    return out


def _meets(spec: GoalSpec, imagination: Imagination, events: list[Event], body, d, speed, goals=None) -> bool:
    states = imagination.run(events)
    verdicts = [G.check(g, states) for g in (goals or spec.goals)] if len(states) > 1 else []
    ok = bool(verdicts) and all(v.ok for v in verdicts)
    spec.tried.append({"body": body, "direction": [round(x, 3) for x in d], "speed": round(speed, 3), "ok": ok,
                       "codes": [v.code for v in verdicts]})
    return ok


def find(state: WorldState, spec: GoalSpec, imagination: Imagination) -> tuple[str, tuple, float] | None:
    """(body, direction, speed) of the least forceful candidate that meets the goal, or None.

    With a ladder, the speeds are tried in its order (the first that works wins); otherwise each
    candidate is tried at the fastest speed, and the first that works is bisected down."""
    for body in spec.bodies:
        for d in spec.directions:
            def test(speed: float, body=body, d=d) -> bool:
                return _meets(spec, imagination, _events(state, body, d, speed, spec.group), body, d, speed)
            if spec.ladder:
                hit = next((v for v in spec.ladder if test(v)), None)
                if hit is not None:
                    return body, d, hit
                continue
            def primary(speed: float, body=body, d=d) -> bool:
                return _meets(spec, imagination, _events(state, body, d, speed, spec.group), body, d, speed,
                              spec.goals[:1])
            if not primary(MAX_SPEED):
                continue
            lo, hi = MIN_SPEED, MAX_SPEED
            for _ in range(BISECTIONS):
                mid = math.sqrt(lo * hi)
                lo, hi = (lo, mid) if primary(mid) else (mid, hi)
            for margin in SAFETY:  # a little above the least: a body that just reaches the edge must also fall
                if hi * margin <= MAX_SPEED and test(hi * margin):
                    return body, d, hi * margin
    return None


def pursue(state: WorldState, camera: CameraSpec | None, r: Reading, spec: GoalSpec, imagination: Imagination):
    """Events for the goal (or none), the sentence, and the step record."""
    found = find(state, spec, imagination)
    goal_record = {"all": [g.model_dump(mode="json") for g in spec.goals], "tried": spec.tried}
    short = False
    if found is None and spec.relaxed:  # the closest honest push: less far than asked, but as asked otherwise
        found = find(state, GoalSpec(spec.relaxed, spec.bodies, spec.directions, spec.ladder + spec.firmer,
                                     group=spec.group, tried=spec.tried), imagination)
        short = found is not None
    if found is None and spec.plain:
        acted = compile_each(state, camera, r)
        acted.step.goal = goal_record
        acted.step.verdict = "imagined, no push that moves it keeps it on its support; pushed as asked"
        return acted
    if found is None:
        what = " and ".join(g.kind.replace("_", " ") for g in spec.goals)
        sentence = (f"Nothing happens: imagining {len(spec.tried)} pushes of the {_names(r.targets)}, "
                    f"none made {'them' if len(r.targets) > 1 else 'it'} {what} within the limits.")
        step = Step(text=r.text, verb="push", targets=r.targets, goal=goal_record, verdict="no candidate met the goal")
        return Acted([], sentence, step, [])
    body, d, speed = found
    bodies = [body, *spec.group]
    they = len(bodies) > 1
    sentence = f"The {_names(bodies)} {'are' if they else 'is'} pushed{' gently' if speed < 1.0 else ''}."
    if short and speed <= spec.ladder[0]:
        sentence += (f" Imagined first: no push that gentle moves {'them' if they else 'it'} 5 cm, so "
                     f"{'they move' if they else 'it moves'} a little less.")
    elif short:
        sentence = (f"The {_names(bodies)} {'are' if they else 'is'} pushed a little harder than gently: imagined "
                    f"first, no gentle push moves {'them' if they else 'it'} visibly.")
    goal_record["chosen"] = {"body": body, "speed": round(speed, 3), "group": list(spec.group)}
    if short:
        goal_record["relaxed"] = [g.model_dump(mode="json") for g in spec.relaxed]
    step = Step(text=r.text, verb="push", targets=bodies, goal=goal_record,
                verdict="closest: met the relaxed goal" if short else "ok")
    return Acted(_events(state, body, d, speed, spec.group), sentence, step, [])


def _names(ids: list[str]) -> str:
    names = [i.replace("-", " ") for i in ids]
    return names[0] if len(names) == 1 else ", the ".join(names[:-1]) + f" and the {names[-1]}"
