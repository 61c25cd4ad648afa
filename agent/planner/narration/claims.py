"""What a narration claims, checked against a turn's outcome. Pure.

The narration is cut into clauses; each clause's bodies are grounded (a clause without one
inherits the previous clause's subject, so "it" works), and its words are read as claims:
stillness ("nothing happens", "stays still"), motion ("rolls", "falls"), screen directions
("to the left", "toward the camera"), appearance, disappearance, colour, mass and release. A
negated clause ("there is no box") claims nothing but stillness. Each claim the outcome does not
bear out is returned as a reason, and the caller replaces the narration.
"""

from __future__ import annotations

import math
import re

from agent.planner.words.camera import dot, screen_axes
from agent.planner.narration.describe import colour_name
from agent.planner.words.grounding import ground
from agent.planner.words.intent import COLOURS
from agent.planner.words.lexicon import camera_direction, normalised
from agent.planner.narration.outcome import MOVE_MIN, Outcome
from simulator.scene import CameraSpec
from simulator.state import WorldState

DIRECTION_SHARE = 0.3
"""A narrated direction holds when the motion's component along it is at least this share of it."""
GROUP_SHARE = 0.6
"""A claim about a group holds when this share of its members bears it out."""
STILL_TOLERANCE = 0.05
"""A body said to stay still may drift this far (m)."""

_CLAUSE = re.compile(r"(?<!\d)[.;!?](?!\d)|,|\band\b|\bbut\b|\bthen\b|\bwhile\b|\bas\b")
_NEGATED = re.compile(r"\b(?:no|not|never|nothing|nobody|without|cannot|can't|doesn't|don't|isn't|aren't|won't|"
                      r"didn't|nowhere|neither|nor)\b")
_NOTHING = re.compile(r"\bnothing (?:happens|changes|moves|stirs)\b|\ball is (?:still|quiet|calm)\b|"
                      r"\beverything (?:stays|remains|is) (?:still|quiet|calm)\b")
_STILL = re.compile(r"\b(?:stays?|sits?|stands?|remains?|rests?|hangs?|keeps?|lies|lie)\b(?: \w+){0,2} (?:still|quietly|"
                    r"in place|motionless|put|unmoved|where it is)\b|\b(?:does not|doesn't|did not) (?:move|budge|fall)\b|"
                    r"\bstays? (?:on|in|at|where)\b")
_MOTION = re.compile(r"\b(?:mov|roll|slid|slide|fly|flies|flew|fall|fell|drop|tumbl|toppl|bounc|shoot|shot|spin|spun|"
                     r"skid|glid|tip|crash|knock|push|kick|flick|shov|hit|strik|struck|toss|throw|threw|launch|sent|"
                     r"send|nudg|bump|swing|swung|rise|rising|rose|lift|jump|hop|collaps|slam|smash|lurch|shift|"
                     r"sail|soar|scoot|skitter|tumbl|plummet|plung|dash|zoom|race|speed)\w*")
_FALL = re.compile(r"\b(?:falls?|fell|falling|drops?|dropped|dropping|tumbles? down|plummets?|plunges?|comes? down)\b")
_RISE = re.compile(r"\b(?:rises?|rose|rising|jumps?|hops?|leaps?|flies up|is tossed up|tossed up|into the air|upwards?)\b")
_APPEAR = re.compile(r"\b(?:appears?|appeared|spawns?|spawned|materiali[sz]es?|is placed|are placed|is added|are added|"
                     r"pops? up|shows? up|is dropped|are dropped|drops? (?:onto|on|into)|falls? (?:onto|on)|lands?|"
                     r"is thrown|arrives?|emerges?)\b")
_VANISH = re.compile(r"\b(?:disappears?|disappeared|vanish\w*|is removed|are removed|removes?|removed|is gone|are gone|"
                     r"is taken away|deleted?|erased?)\b")
_RECOLOUR = re.compile(r"\b(?:turns?|turned|becomes?|became|is painted|painted|paints?|is now|glows?|changes? to|"
                       r"dyed?|colou?red)\b")
_HEAVIER = re.compile(r"\bheav(?:y|ier)\b|\bweighs? more\b")
_LIGHTER = re.compile(r"\blight(?:er)?\b(?! (?:of|on))|\bweighs? less\b|\bweightless\b")
_RELEASE = re.compile(r"\b(?:released?|lets? go|let go|comes? loose|came loose|breaks? free|is freed|unhook\w*|"
                      r"is let go)\b")


def contradictions(narration: str, before: WorldState, after: WorldState, out: Outcome,
                   camera: CameraSpec | None = None) -> list[str]:
    """Every claim in `narration` that the outcome does not bear out (empty: the narration agrees)."""
    merged = WorldState(step=after.step, time=after.time,
                        entities={**before.entities, **after.entities})
    moved = {m.entity: m for m in out.moved}
    axes = screen_axes(camera)
    reasons: list[str] = []
    subject: list[str] = []
    quoted_free = re.sub(r"\([^)]*\)", "", narration)  # descriptions in brackets quote looks, they claim nothing
    quoted_free = re.sub(r"\"[^\"]*\"", "", quoted_free)  # a quoted example ("push the mug left") claims nothing
    for clause in _CLAUSE.split(quoted_free):
        if not clause.strip():
            continue
        text = normalised(clause)
        g = ground(merged, clause, (), camera)
        has_new = g.new is not None and bool(_APPEAR.search(text))
        # "A ball turns blue" with nothing appearing: an indefinite noun that matches a body means that body.
        kinds = ("entity", "group") if has_new else ("entity", "group", "new")
        refs = [p for p in g.phrases if p.relation is None and p.ids and p.kind in kinds]
        owners = [p for p in refs if p.words[-1].endswith("'s")]
        named = [i for p in refs if p not in owners for i in (p.ids if p.kind == "group" else p.ids[:1])]
        groups = [p.ids for p in refs if p.kind == "group" and p not in owners]
        if not named and subject and not has_new:
            named = subject
        elif refs:
            subject = [i for p in refs for i in (p.ids if p.kind == "group" else p.ids[:1])][:1] if owners else named
        reasons += _stillness(text, named, out, moved)
        if _NEGATED.search(text):
            continue
        reasons += [f"it names {u!r}, which is not in the scene" for u in g.unknown]
        reasons += _changes(text, named, has_new or g.new is not None, g.colour, before, after, out)
        reasons += _motion(text, _majority(named, groups, moved), out, moved, axes)
    return list(dict.fromkeys(reasons))


def _majority(named: list[str], groups: list[list[str]], moved: dict) -> list[str]:
    """A group said to move ("the pins fall") holds when most of it moved: only its movers are checked."""
    out = list(named)
    for members in groups:
        movers = [i for i in members if i in moved]
        if len(movers) >= GROUP_SHARE * len(members):
            out = [i for i in out if i not in members or i in movers]
    return out


def _stillness(text: str, named: list[str], out: Outcome, moved: dict) -> list[str]:
    if _NOTHING.search(text):
        if out.changed:
            return [f"it says nothing happens, but: {out.sentence}"]
        return []
    if _STILL.search(text):
        return [f"it says {i} stays still, but it moved {moved[i].distance:.2f} m" for i in named
                if i in moved and moved[i].peak > STILL_TOLERANCE]
    return []


def _changes(text: str, named: list[str], new: bool, colour: str | None, before: WorldState, after: WorldState,
             out: Outcome) -> list[str]:
    reasons = []
    if _APPEAR.search(text) and (new or not named) and not out.appeared:
        reasons.append("it says something appears, but nothing new is there")
    if _APPEAR.search(text) and not new:
        reasons += [f"it says {i} appears, but {i} was there already" for i in named
                    if re.search(r"\bappear", text) and i in before.entities and i not in out.appeared]
    if _VANISH.search(text):
        if not named and not out.vanished:
            reasons.append("it says something disappears, but nothing did")
        reasons += [f"it says {i} disappears, but it is still there" for i in named if i in after.entities]
    if colour and _RECOLOUR.search(text):
        for i in named:
            e = after.entities.get(i)
            if e is not None and e.color != COLOURS[colour] and colour_name(e.color) != colour:
                reasons.append(f"it says {i} turns {colour}, but it is {colour_name(e.color)}")
    if _HEAVIER.search(text):
        reasons += [f"it says {i} gets heavier, but its mass did not grow" for i in named
                    if not (i in out.mass and out.mass[i][1] > out.mass[i][0])]
    if _LIGHTER.search(text):
        reasons += [f"it says {i} gets lighter, but its mass did not shrink" for i in named
                    if not (i in out.mass and out.mass[i][1] < out.mass[i][0])]
    if _RELEASE.search(text):
        reasons += [f"it says {i} is let go, but it is still held" for i in named
                    if i in before.entities and before.entities[i].fixed and i not in out.released]
    return reasons


def _motion(text: str, named: list[str], out: Outcome, moved: dict, axes) -> list[str]:
    reasons = []
    if not (_MOTION.search(text) or _FALL.search(text) or _RISE.search(text)):
        return reasons
    word = camera_direction(text)
    if word in ("forward", "back"):
        word = None
    for i in named:
        if i in out.appeared or i in out.vanished:
            continue
        m = moved.get(i)
        if m is None:
            reasons.append(f"it says {i} moves, but it stayed where it was")
            continue
        if _FALL.search(text) and m.displacement[2] > -MOVE_MIN:
            reasons.append(f"it says {i} falls, but it did not go down")
        if _RISE.search(text) and m.rise < MOVE_MIN:
            reasons.append(f"it says {i} goes up, but it did not rise")
        flat = math.hypot(m.displacement[0], m.displacement[1])
        if word and word not in ("up", "down") and flat < MOVE_MIN and m.peak < 2 * MOVE_MIN:
            reasons.append(f"it says {i} goes {word}, but it did not move sideways")
        elif word and word not in ("up", "down") and flat >= MOVE_MIN:
            v = axes.vector(word)  # a screen direction is judged on the floor plane: falling does not dilute it
            if dot(m.displacement, v) < DIRECTION_SHARE * flat:
                reasons.append(f"it says {i} goes {word}, but it went {' and '.join(m.directions) or 'nowhere'}")
    return reasons

