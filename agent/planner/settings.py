"""How the planner asks its model: one frozen value both plan formats are given (never the planner)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.planner.formats.prompts import PROMPT_VERSION

PLAN_FORMATS = ("intents", "events")
"""intents: the action is read into a typed intent and compiled; events: the model writes the events."""
SCORING_MODES = ("unsure", "always", "off")
"""When the model scores verbs in the intents format: where the lexicon is unsure (default), for
every action over all verbs (to measure the model alone), or never (lexicon only)."""
DEFAULT_PLAN_FORMAT = "intents"
DEFAULT_MAX_TOKENS = 400
DEFAULT_TEMPERATURE = 0.2


@dataclass(frozen=True)
class PlannerSettings:
    """Sampling and retry settings, checked once when the planner is made."""

    max_retries: int = 2
    """Rejected replies sent back to the model with the reasons, at most."""
    max_tokens: int = DEFAULT_MAX_TOKENS
    """Token limit of one reply."""
    temperature: float = DEFAULT_TEMPERATURE
    """Sampling temperature."""
    seed: int | None = None
    """Sampling seed for every request (None: the backend's, i.e. the scene seed)."""
    constrain_ids: bool = True
    """Events format: limit the decoding schema's entity ids to the world's."""
    prompt_version: str = PROMPT_VERSION
    """Events format: the prompt version."""
    scoring: str = "unsure"
    """Intents format: one of :data:`SCORING_MODES`."""

    def __post_init__(self) -> None:
        if self.scoring not in SCORING_MODES:
            raise ValueError(f"scoring {self.scoring!r} is not one of {', '.join(SCORING_MODES)}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
