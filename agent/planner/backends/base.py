"""The one small interface every planner backend implements, and its errors."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any



class BackendError(RuntimeError):
    """A backend cannot answer at all (not a bad plan: the model or server is missing or broken)."""


class BackendUnavailable(BackendError):
    """A failure that may pass: the server is down or busy, or the request timed out."""


class BackendSlow(BackendUnavailable):
    """The server is up (it answers ``/v1/models``) but did not finish the request in time, or is still
    busy with one abandoned that way; retrying on the same server would queue behind it."""


class ModelNotFound(BackendError):
    """The server runs, but does not serve the requested model."""


@dataclass(frozen=True)
class PlanRequest:
    """Everything one plan call needs: the chat, the decoding schema, and sampling settings."""

    messages: list[dict[str, str]]
    """Chat messages, {'role': 'system'|'user'|'assistant', 'content': ...}."""
    schema: dict[str, Any]
    """The JSON Schema the reply must follow (constrains decoding where the backend can)."""
    seed: int | None = None
    """Sampling seed; None uses the backend's own seed (the scene seed)."""
    max_tokens: int = 512
    """Upper bound on generated tokens."""
    temperature: float = 0.2
    """Sampling temperature."""
    context: dict[str, Any] = field(default_factory=dict)
    """Structured context for backends that do not read prompts ('action', 'state')."""


@dataclass
class Completion:
    """One raw reply from a model, with its cost."""

    text: str
    """The reply as generated (JSON text when decoding was constrained)."""
    prompt_tokens: int = 0
    """Tokens read."""
    completion_tokens: int = 0
    """Tokens generated."""
    finish_reason: str | None = None
    """'stop', or 'length' when max_tokens cut the reply off."""
    latency_s: float = 0.0
    """Wall time of the model call."""
    model: str = ""
    """The model that answered."""


class Backend(ABC):
    """A planner backend: turns a :class:`PlanRequest` into a reply."""

    name: str = "backend"
    model: str = ""
    seed: int = 0

    @abstractmethod
    def complete(self, request: PlanRequest) -> Completion:
        """The model's raw reply; raises :class:`BackendError` when no reply can be had."""

    can_score: bool = False
    """Whether :meth:`score` works (the planner then uses likelihood scoring for unsure verbs)."""
    can_generate: bool = True
    """Whether a model stands behind :meth:`complete` (False for the scripted backend, which plans
    no events and so never writes an intent either)."""

    def seed_for(self, request: PlanRequest) -> int:
        return self.seed if request.seed is None else request.seed

    def score(self, prefix: str, options: Sequence[tuple[str, str]]) -> list[float]:
        """For each (context, continuation): the summed log-probability of the continuation's tokens
        after ``prefix + context``. Backends that cannot score raise :class:`BackendError`."""
        raise BackendError(f"the {self.name} backend cannot score text; use the intents format's generation path")

    def close(self) -> None:
        """Release what the backend holds (servers, models)."""


class RetryingBackend(Backend):
    """Retries another backend's transient failures with exponential backoff."""

    def __init__(self, inner: Backend, retries: int = 3, backoff_s: float = 0.5, max_backoff_s: float = 8.0):
        self.inner = inner
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.name, self.model, self.seed = inner.name, inner.model, inner.seed
        self.can_score, self.can_generate = inner.can_score, inner.can_generate

    def score(self, prefix: str, options: Sequence[tuple[str, str]]) -> list[float]:
        return self.inner.score(prefix, options)

    def complete(self, request: PlanRequest) -> Completion:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                reply = self.inner.complete(request)
                self.model = self.inner.model
                return reply
            except BackendSlow:  # the server is still generating the abandoned request: do not queue behind it
                raise
            except BackendUnavailable:
                if attempt == self.retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.inner.close()

