"""The one ask-and-retry loop: ask the model, check the reply, send the reasons back, at most N times.

Both plan formats use it: the events format parses and checks a whole plan, the intents format's
generation path parses an intent. (Transient transport failures are another matter: the backend
retries those with backoff, :class:`agent.planner.backends.RetryingBackend`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Generic, TypeVar

from agent.planner.backends.base import Backend, Completion, PlanRequest
from agent.planner.record import Attempt
from simulator.checks import Problem

T = TypeVar("T")

Parse = Callable[[str], "tuple[T | None, list[Problem]]"]
"""Reads a reply: (the value, or None when rejected; the problems)."""
FollowUp = Callable[[str, "list[Problem]"], "list[dict[str, str]]"]
"""The messages that send a rejected reply's problems back to the model."""


class Asked(Generic[T]):
    """The value of the first accepted reply (None when every reply was rejected), and every attempt."""

    def __init__(self, value: T | None, attempts: list[Attempt]):
        self.value = value
        self.attempts = attempts


def ask(backend: Backend, request: PlanRequest, parse: Parse, follow_up: FollowUp, retries: int) -> Asked:
    """Ask up to ``retries + 1`` times. A reply cut off at the token limit and rejected gets a
    'cut_off' problem first, so the model is told to write less."""
    attempts: list[Attempt] = []
    for _ in range(retries + 1):
        reply = backend.complete(request)
        value, problems = parse(reply.text)
        if value is None and reply.finish_reason == "length":
            problems = [_cut_off(request.max_tokens)] + problems
        attempts.append(_attempt(reply, [] if value is not None else problems))
        if value is not None:
            return Asked(value, attempts)
        request = replace(request, messages=request.messages + follow_up(reply.text, problems))
    return Asked(None, attempts)


def _cut_off(max_tokens: int) -> Problem:
    return Problem(code="cut_off", value=max_tokens,
                   message=f"the reply was cut off at {max_tokens} tokens; write a shorter reply")


def _attempt(reply: Completion, problems: list[Problem]) -> Attempt:
    return Attempt(raw=reply.text, issues=problems, finish_reason=reply.finish_reason,
                   latency_s=round(reply.latency_s, 4), prompt_tokens=reply.prompt_tokens,
                   completion_tokens=reply.completion_tokens)
