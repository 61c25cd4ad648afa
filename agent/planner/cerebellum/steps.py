"""From a read clause to events: goals searched by imagination, placements, or the plain compiler per target.

:func:`act` takes one :class:`~agent.planner.words.program.Reading` and returns the events, the
planned sentence and the typed :class:`~agent.planner.words.program.Step` for the plan record.
A doubt or an unknown referent gives no events and says why; a goal (topple, off the edge, until
it touches, barely, stays on) goes to :mod:`agent.planner.cerebellum.search`; a placement ("put X
on Y") to :mod:`agent.planner.cerebellum.placement`; a goal a model's program step names (and the
words do not) the same way; anything else compiles once per target.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.planner.cerebellum import placement, search
from agent.planner.cerebellum.acted import Acted, compile_each
from agent.planner.cerebellum.imagination import Imagination
from agent.planner.narration.narrate import unknown_narration
from agent.planner.words.program import Reading, Step
from simulator.scene import CameraSpec
from simulator.state import WorldState

STEP_GOALS: tuple[str, ...] = search.MODEL_GOALS + placement.MODEL_GOALS
"""The goal kinds (:mod:`simulator.goals`) a program step may name and the cerebellum pursues."""


def act(state: WorldState, camera: CameraSpec | None, r: Reading, imagine: Callable[[], Imagination]) -> Acted:
    """Events, sentence and step record for one reading."""
    if r.doubt:
        return Acted([], r.doubt, Step(text=r.text, verb="none", verdict="refused"), [])
    if r.intent is None:
        text = unknown_narration([u for u in r.unknown if u], state)
        return Acted([], text, Step(text=r.text, verb="none", verdict="unknown referent"), [])
    spot, by = placement.placement_from_words(state, r), "lexicon"
    if spot is None:
        spot, by = placement.placement_from_goal(state, r), "generation"
    if spot is not None:
        r.decided_by["goal"] = by
        return placement.carry(state, r, spot, imagine())
    goal, by = search.goal_from_words(state, camera, r), "lexicon"
    if goal is None or goal.plain:  # no goal words: a goal the model's step names comes first
        model = search.goal_from_model(state, camera, r)
        goal, by = (model, "generation") if model is not None else (goal, by)
    if goal is not None:
        r.decided_by["goal"] = by
        return search.pursue(state, camera, r, goal, imagine())
    return compile_each(state, camera, r)
