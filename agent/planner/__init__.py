"""The left brain: plans a turn from the world state and the user's action.

Its parts, each a sub-folder with a small face:

- ``words/``: reading the action (lexicon, phrases, grounding on the world, verb choice, the intent);
- ``cerebellum/``: the physics compiler (an intent to mass-aware events);
- ``formats/``: the two plan formats (intents, events), their prompts and the decoding schema;
- ``narration/``: what happened, in words (outcome, claims, narration, reconcile, captions);
- ``backends/``: one adapter per model server (llama.cpp, OpenAI-compatible, vLLM in process, scripted).

Code outside the planner imports the names below from ``agent.planner``, never a part directly.
"""

from agent.planner.backends import (
    Backend,
    BackendError,
    BackendUnavailable,
    ModelNotFound,
    PlanRequest,
    default_planner,
    make_backend,
)
from agent.planner.capabilities import capabilities_text
from agent.planner.cerebellum.imagination import Imagination
from agent.planner.formats.plan import TurnPlan, pinned_plan
from agent.planner.formats.prompts import HISTORY_TURNS
from agent.planner.narration.reconcile import reconcile
from agent.planner.planner import Planner
from agent.planner.record import PlannedTurn, PlanRecord
from agent.planner.settings import DEFAULT_TEMPERATURE
from agent.planner.validation import validate
from agent.planner.words.intent import COLOURS
from agent.planner.words.lexicon import COLOUR_SYNONYMS
from simulator.checks import Problem

__all__ = [
    "Backend", "BackendError", "BackendUnavailable", "ModelNotFound", "PlanRequest", "default_planner",
    "make_backend", "TurnPlan", "pinned_plan", "HISTORY_TURNS", "reconcile", "DEFAULT_TEMPERATURE", "Planner",
    "PlannedTurn", "PlanRecord", "Problem", "validate", "Imagination", "capabilities_text", "COLOURS", "COLOUR_SYNONYMS",
]
