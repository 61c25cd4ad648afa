"""The planner: one action in words to a checked plan, in one of two formats.

The world is never touched here. Playback applies ``planned.plan.events`` afterwards, and those
events have passed the simulator's event checker (:func:`agent.planner.validate`), or there are none.
"""

from __future__ import annotations

from agent.planner.backends.base import Backend
from agent.planner.cerebellum.imagination import Imagination
from agent.planner.formats.events import plan_events
from agent.planner.formats.intents import plan_intents
from agent.planner.formats.prompts import PROMPT_VERSION, get_prompt
from agent.planner.record import PlannedTurn
from agent.planner.settings import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_PLAN_FORMAT,
    DEFAULT_TEMPERATURE,
    PLAN_FORMATS,
    PlannerSettings,
)
from agent.planner.words.verbs import PREFIX
from simulator.scene import CameraSpec
from simulator.state import WorldState


class Planner:
    """Plans turns with `backend`.

    ``plan_format="intents"`` (default): the action is read into a typed intent (grounding, lexicon,
    and the model's likelihood scoring where the lexicon is unsure, or constrained generation for
    backends that cannot score) and compiled to events; ``"events"``: the model writes the events,
    and rejected plans go back to it up to `max_retries` times. A backend with no model (``scripted``)
    defaults to events (it plans none); with ``plan_format="intents"`` it reads intents by lexicon
    alone. ``scoring`` says when the model scores verbs (:data:`agent.planner.settings.SCORING_MODES`).
    """

    def __init__(self, backend: Backend, max_retries: int = 2, *, max_tokens: int = DEFAULT_MAX_TOKENS,
                 temperature: float = DEFAULT_TEMPERATURE, seed: int | None = None, constrain_ids: bool = True,
                 prompt_version: str = PROMPT_VERSION, plan_format: str | None = None, scoring: str = "unsure"):
        if plan_format is None:
            plan_format = DEFAULT_PLAN_FORMAT if backend.can_generate else "events"
        if plan_format not in PLAN_FORMATS:
            raise ValueError(f"plan_format {plan_format!r} is not one of {', '.join(PLAN_FORMATS)}")
        self.backend = backend
        self.plan_format = plan_format
        self.settings = PlannerSettings(max_retries=max_retries, max_tokens=max_tokens, temperature=temperature,
                                        seed=seed, constrain_ids=constrain_ids, scoring=scoring,
                                        prompt_version=get_prompt(prompt_version).version)
        if plan_format == "intents" and scoring != "off" and backend.can_score:
            backend.score(PREFIX, [])  # load the scoring model and cache the prefix now, not in turn 1

    def plan_turn(self, world_state: WorldState, action: str, history: list[str], *,
                  camera: CameraSpec | None = None, imagination: Imagination | None = None) -> PlannedTurn:
        """Plan one turn; `camera` is the scene camera that "left" and "toward" refer to (default:
        the scene format's default camera); `imagination`: the live world's :class:`Imagination` for
        goal search (default: one built from the state when a goal needs it)."""
        if self.plan_format == "intents":
            return plan_intents(self.backend, self.settings, world_state, action, list(history), camera,
                                imagination)
        return plan_events(self.backend, self.settings, world_state, action, list(history))
