"""The planner's record of one call: how the plan was reached (typed; saved in the turn record).

Both plan formats write one :class:`PlanRecord`: the model replies (:class:`Attempt`) with the
problems that rejected them, the fixes applied, who decided each part, and the timings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.planner.formats.plan import TurnPlan
from agent.planner.words.program import Step
from simulator.checks import Problem

PLAN_RECORD_SCHEMA_VERSION = 1


class Attempt(BaseModel):
    """One reply of the model and what the checks said of it."""

    model_config = ConfigDict(extra="forbid")

    raw: str
    """The reply as generated."""
    issues: list[Problem] = Field(default_factory=list)
    """Why it was rejected (empty when it was taken)."""
    finish_reason: str | None = None
    """'stop', or 'length' when the token limit cut it off."""
    latency_s: float = 0.0
    """Wall time of the model call."""
    prompt_tokens: int = 0
    """Tokens read."""
    completion_tokens: int = 0
    """Tokens generated."""


class Tokens(BaseModel):
    """Token counts over all attempts."""

    prompt: int = 0
    """Tokens read."""
    completion: int = 0
    """Tokens generated."""
    per_s: float | None = None
    """Generated tokens per second of model time."""


class PlanRecord(BaseModel):
    """How one plan was reached: the audit trail kept with the turn."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PLAN_RECORD_SCHEMA_VERSION
    """Record format version."""
    plan_format: Literal["intents", "events", "none"] = "none"
    """Which format planned: the intent reader and compiler, or the model writing events; 'none' when
    no planner could be asked (the backend failed before any reply)."""
    backend: str = ""
    """The backend's name (llamacpp, openai, vllm, scripted)."""
    model: str = ""
    """The model that answered."""
    seed: int | None = None
    """The sampling seed sent with every request."""
    action: str = ""
    """The action as the planner read it."""
    prompt_version: str | None = None
    """The events format's prompt version."""
    attempts: list[Attempt] = Field(default_factory=list)
    """Every model reply, in order, with its problems."""
    repairs: list[Problem] = Field(default_factory=list)
    """Fixes applied to the taken reply (near-miss ids, over-long text)."""
    fell_back: bool = False
    """True when no valid plan came: the events were dropped and the narration kept."""
    error: str | None = None
    """Why the backend could not answer at all, when it could not."""
    decided_by: dict[str, str] = Field(default_factory=dict)
    """Intents format: which reader decided each slot ('lexicon', 'scoring', 'generation', ...)."""
    intent_path: str | None = None
    """Intents format: lexicon, scoring or generation (how the intent was read)."""
    program_reader: Literal["generation", "per_clause"] | None = None
    """Intents format, backends that write: 'generation' when the model wrote the whole program under
    one JSON Schema (each step's ``decided_by`` says which reader decided each part), 'per_clause' when
    that reply failed after the retries and the model wrote one intent per clause; None otherwise."""
    intent: dict[str, Any] | None = None
    """Intents format: the intent as read (None when the words named nothing there)."""
    understanding: dict[str, Any] = Field(default_factory=dict)
    """Intents format: the first step's grounding, and the compiler's notes and problems."""
    steps: list[Step] = Field(default_factory=list)
    """Intents format: the program as read, a typed step per clause (verb, targets, goal, candidates
    imagined and the verdict), or the one step that answered a question or refused."""
    imagined_rollouts: int = 0
    """Rollouts imagined on a scratch copy of the world to choose the events."""
    imagined_s: float = 0.0
    """Seconds spent imagining."""
    plan: TurnPlan | None = None
    """The plan that came out."""
    latency_s: float = 0.0
    """Wall time of the whole call."""
    model_s: float = 0.0
    """Of which the model's time."""
    overhead_s: float = 0.0
    """Of which everything else (reading, grounding, checking, compiling)."""
    tokens: Tokens = Field(default_factory=Tokens)
    """Token counts over all attempts."""

    @property
    def problems(self) -> list[str]:
        """What went wrong on the way, in words: the problems of rejected attempts, and a fallback."""
        rejected = self.attempts if self.fell_back else self.attempts[:-1]
        out = [i.message for a in rejected for i in a.issues]
        if self.error:
            out.append(self.error)
        elif self.fell_back:
            out.append("no valid plan after the last attempt: events dropped, narration kept")
        return out

    def timed(self, total_s: float) -> PlanRecord:
        """This record with the timings and token counts filled in from its attempts."""
        model_s = sum(a.latency_s for a in self.attempts) + self.model_s
        completion = sum(a.completion_tokens for a in self.attempts)
        tokens = Tokens(prompt=sum(a.prompt_tokens for a in self.attempts), completion=completion,
                        per_s=round(completion / model_s, 2) if model_s > 0 and completion else None)
        return self.model_copy(update={"latency_s": round(total_s, 4), "model_s": round(model_s, 4),
                                       "overhead_s": round(max(0.0, total_s - model_s), 4), "tokens": tokens})


class PlannedTurn(BaseModel):
    """What :meth:`agent.planner.Planner.plan_turn` returns: the plan and how it was reached."""

    plan: TurnPlan
    """A plan whose events passed the checks (fixes applied), or the no-event fallback."""
    record: PlanRecord
    """The audit record."""

    @property
    def problems(self) -> list[str]:
        """What went wrong on the way, in words."""
        return self.record.problems
