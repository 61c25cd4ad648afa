"""The planner: prompt the model, validate and repair its plan, retry with reasons, fall back.

The world is never touched here. Playback applies ``outcome.plan.events`` afterwards, and those
events have passed :func:`agent.planner.validation.validate` (or there are none).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from agent.planner.backends.base import Backend, PlanRequest
from agent.planner.narration.describe import caption_for
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan, plan_json_schema
from agent.planner.formats.prompts import PROMPT_VERSION, build_messages, get_prompt, retry_messages
from agent.planner.formats.intents import plan_intents
from agent.planner.validation import PlanIssue, check_plan
from agent.planner.words.verbs import PREFIX
from simulator.scene import CameraSpec
from simulator.state import WorldState

PLAN_FORMATS = ("intents", "events")
SCORING_MODES = ("unsure", "always", "off")
"""When the model scores verbs in the intents format: where the lexicon is unsure (default), for
every action over all verbs (to measure the model alone), or never (lexicon only)."""
DEFAULT_PLAN_FORMAT = "intents"
DEFAULT_MAX_TOKENS = 400
DEFAULT_TEMPERATURE = 0.2
_NARRATION = re.compile(r'"narration"\s*:\s*"((?:[^"\\]|\\.)*)')


@dataclass
class PlanOutcome:
    """A turn's plan and the audit record of how it was reached."""

    plan: TurnPlan
    """A plan whose events passed validation (repairs applied), or the no-event fallback."""
    record: dict[str, Any]
    """JSON-ready: attempts (raw output, issues), repairs, fell_back, latency and tokens."""

    @property
    def problems(self) -> list[str]:
        """What went wrong on the way, in words: the issues of rejected attempts, and a fallback."""
        attempts = self.record.get("attempts", [])
        rejected = attempts if self.record.get("fell_back") else attempts[:-1]
        out = [i if isinstance(i, str) else i.get("message", str(i)) for a in rejected for i in a.get("issues", [])]
        if self.record.get("fell_back"):
            out.append("no valid plan after the last attempt: events dropped, narration kept")
        return out


class Planner:
    """Plans turns with `backend`.

    ``plan_format="intents"`` (default): the action is read into a typed :class:`Intent` (grounding,
    lexicon, and the model's likelihood scoring where the lexicon is unsure, or constrained generation
    for backends that cannot score) and compiled to events; ``"events"``: the model writes the events,
    and rejected plans go back to it up to `max_retries` times. The scripted backend (no model)
    defaults to events (it plans none); with ``plan_format="intents"`` it reads intents by lexicon
    alone. ``scoring`` says when the model scores verbs (:data:`SCORING_MODES`).
    """

    def __init__(
        self,
        backend: Backend,
        max_retries: int = 2,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        seed: int | None = None,
        constrain_ids: bool = True,
        prompt_version: str = PROMPT_VERSION,
        plan_format: str | None = None,
        scoring: str = "unsure",
        camera: CameraSpec | None = None,
    ):
        if plan_format is None:  # the scripted backend (no model) plans events, none, unless asked for intents
            plan_format = "events" if backend.name == "scripted" else DEFAULT_PLAN_FORMAT
        if plan_format not in PLAN_FORMATS:
            raise ValueError(f"plan_format {plan_format!r} is not one of {', '.join(PLAN_FORMATS)}")
        if scoring not in SCORING_MODES:
            raise ValueError(f"scoring {scoring!r} is not one of {', '.join(SCORING_MODES)}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        self.backend = backend
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        self.constrain_ids = constrain_ids
        self.prompt_version = get_prompt(prompt_version).version
        self.plan_format = plan_format
        self.scoring = scoring
        self.camera = camera
        if self.plan_format == "intents" and scoring != "off" and backend.can_score:
            backend.score(PREFIX, [])  # load the scoring model and cache the prefix now, not in turn 1

    def plan_turn(self, world_state: WorldState, action: str, history: list[str],
                  feedback: list[str] | None = None, camera: CameraSpec | None = None,
                  imagination=None) -> PlanOutcome:
        """Plan one turn. `feedback`: why the previous plan for this turn was rejected; `camera`: the
        scene camera that "left" and "toward" refer to (default: the planner's, else the scene default);
        `imagination`: an :class:`~agent.planner.cerebellum.imagination.Imagination` of the live world
        for goal search (default: one built from the state when a goal needs it)."""
        camera = camera or self.camera
        if self.plan_format == "intents":
            plan, record = plan_intents(self, world_state, action, list(history), feedback or [], camera,
                                        imagination)
            return PlanOutcome(plan=plan, record=record)
        if feedback:
            action = f"{action}\n(An earlier plan was rejected: {'; '.join(feedback)})"
        start = time.perf_counter()
        plan, repairs, attempts = self._attempt_events(world_state, action, history)
        fell_back = plan is None
        if plan is None:
            narration = _salvage_narration([a["raw"] for a in attempts]) or action[:NARRATION_MAX]
            plan = TurnPlan(narration=narration, events=[], caption=caption_for(world_state, narration))
        elif not plan.caption.strip():
            plan = plan.model_copy(update={"caption": caption_for(world_state, plan.narration)})
        total = time.perf_counter() - start
        model_s = sum(a["latency_s"] for a in attempts)
        completion = sum(a["completion_tokens"] for a in attempts)
        record = {
            "plan_format": "events",
            "prompt_version": self.prompt_version,
            "backend": self.backend.name,
            "model": self.backend.model,
            "seed": self.backend.seed if self.seed is None else self.seed,
            "action": action,
            "attempts": attempts,
            "repairs": [r.model_dump(mode="json") for r in repairs],
            "fell_back": fell_back,
            "plan": plan.model_dump(mode="json"),
            "latency_s": round(total, 4),
            "model_s": round(model_s, 4),
            "overhead_s": round(max(0.0, total - model_s), 4),
            "tokens": {
                "prompt": sum(a["prompt_tokens"] for a in attempts),
                "completion": completion,
                "per_s": round(completion / model_s, 2) if model_s > 0 else None,
            },
        }
        return PlanOutcome(plan=plan, record=record)


    def _attempt_events(self, world_state: WorldState, action: str, history: list[str]):
        """The events format's one retry loop: ask, validate, send the reasons back; at most
        ``max_retries + 1`` replies. Returns (plan or None, repairs, attempt records)."""
        messages = build_messages(world_state, action, history, self.prompt_version)
        schema = plan_json_schema(
            list(world_state.entities), [eid for eid, e in world_state.entities.items() if not e.fixed]
        ) if self.constrain_ids else plan_json_schema()
        attempts: list[dict[str, Any]] = []
        for _ in range(self.max_retries + 1):
            request = PlanRequest(
                messages=messages, schema=schema, seed=self.seed, max_tokens=self.max_tokens,
                temperature=self.temperature, context={"action": action, "state": world_state},
            )
            reply = self.backend.complete(request)
            checked = check_plan(world_state, reply.text)
            issues = checked.issues
            if checked.plan is None and reply.finish_reason == "length":
                issues = [PlanIssue(path="", code="cut_off", value=self.max_tokens,
                                    message=f"the reply was cut off at {self.max_tokens} tokens; write a "
                                            "shorter plan")] + issues
            attempts.append({
                "raw": reply.text,
                "issues": [i.model_dump(mode="json") for i in issues],
                "finish_reason": reply.finish_reason,
                "latency_s": round(reply.latency_s, 4),
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
            })
            if checked.plan is not None:
                return checked.plan, checked.repairs, attempts
            messages = messages + retry_messages(reply.text, [i.message for i in issues], self.prompt_version)
        return None, [], attempts


def _salvage_narration(raws: list[str]) -> str:
    """The narration of the latest reply that has one, even when its JSON never closed."""
    for raw in reversed(raws):
        try:
            value = json.loads(raw).get("narration")
        except (ValueError, AttributeError):
            m = _NARRATION.search(raw)
            value = _unescape(m.group(1)) if m else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:NARRATION_MAX]
    return ""


def _unescape(fragment: str) -> str:
    try:
        return json.loads(f'"{fragment}"')
    except ValueError:
        return fragment.replace('\\"', '"')
