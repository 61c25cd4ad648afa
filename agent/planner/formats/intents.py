"""The intents plan format: read the action into an :class:`Intent`, compile it, narrate it.

Three ways to the intent, recorded in the plan record as ``intent_path``:

- ``lexicon``: grounding and the lexicon alone (``Planner(scoring="off")``);
- ``scoring``: the same, with the model's noisy-channel likelihoods choosing the verb whenever the
  lexicon is unsure (backends with ``can_score``: the embedded llama.cpp model);
- ``generation``: the model writes the whole intent under a JSON Schema whose enums grounding
  narrows, and the slots the words state outright are taken from the lexicon (other backends).

The compiled events pass the same :func:`agent.planner.validation.check_plan` as the events format.
"""

from __future__ import annotations

import time
from typing import Any

from agent.planner.cerebellum.imagination import Imagination, from_state
from agent.planner.cerebellum.steps import act
from agent.planner.formats import intent_gen
from agent.planner.narration.answer import answer, is_question
from agent.planner.words import honesty
from agent.planner.words.program import Reading, Step, clauses
from agent.planner.words.reading import read_clause
from agent.planner.backends.base import PlanRequest
from agent.planner.cerebellum.compiler import Compiled, compile_intent
from agent.planner.narration.describe import caption_for
from agent.planner.words.grounding import Grounding, ground
from agent.planner.words.lexicon import normalised
from agent.planner.narration.narrate import intent_narration, unknown_narration
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan
from agent.planner.words.understand import Understanding, build_intent
from agent.planner.validation import check_plan
from agent.planner.words.verbs import VerbChoice, choose_verb
from simulator.scene import CameraSpec
from simulator.state import WorldState

INTENT_MAX_TOKENS = 120


def plan_intents(planner, state: WorldState, action: str, history: list[str], feedback: list[str],
                 camera: CameraSpec | None, imagination: Imagination | None = None) -> tuple[TurnPlan, dict[str, Any]]:
    """(plan, record) for one action in the intents format: a small program of steps."""
    start = time.perf_counter()
    lazy = _LazyImagination(state, camera, imagination)
    readings: list[Reading] = []
    steps: list[Step] = []
    events: list = []
    sentences: list[str] = []
    notes: list[str] = []
    attempts: list[dict[str, Any]] = []
    path, model_s = "lexicon", 0.0
    doubt = honesty.language(action)
    if feedback:
        sentences.append(f"That cannot happen here: {'; '.join(feedback)}")
    elif doubt is not None:
        sentences.append(doubt.message)
        steps.append(Step(text=action[:500], verb="none", verdict=doubt.code))
    elif is_question(action):
        sentences.append(answer(state, action, history, camera))
        steps.append(Step(text=action[:500], verb="answer", verdict="answered"))
    else:
        parts = clauses(action)
        for k, text in enumerate(parts):
            choose, how = _chooser(planner, state, history, attempts)
            r = read_clause(state, text, list(history) + parts[:k], camera, choose)
            path = how if how != "lexicon" else path
            acted = act(state, camera, r, lazy.get)
            readings.append(r)
            steps.append(acted.step)
            events += acted.events
            notes += acted.notes
            sentences.append(acted.sentence)
        model_s = sum(a["latency_s"] for a in attempts)
    compiled = Compiled(events, notes)
    checked = check_plan(state, TurnPlan(events=events)) if events else None
    issues = [i.model_dump(mode="json") for i in checked.issues] if checked else []
    if issues:
        compiled = Compiled([], notes, problem="the compiled events did not validate")
        sentences = [f"Nothing happens: the planned events did not validate ({issues[0].get('message', '')})."[:200]]
    narration = " ".join(s for s in sentences if s)[:NARRATION_MAX] or "Nothing happens."
    plan = TurnPlan(narration=narration, events=compiled.events, caption=caption_for(state, narration))
    total = time.perf_counter() - start
    first = next((r for r in readings if r.intent is not None), readings[0] if readings else None)
    u = _understanding(first)
    record = _record(planner, action, path, u, compiled, issues, attempts, plan, total, model_s, bool(feedback))
    record["program"] = {"steps": [st.model_dump(mode="json") for st in steps],
                         "imagined": {"rollouts": lazy.rollouts, "seconds": round(lazy.seconds, 4)}}
    record["imagined"] = {"rollouts": lazy.rollouts}
    return plan, record


class _LazyImagination:
    """Built on first use: a plan with no goal imagines nothing."""

    def __init__(self, state: WorldState, camera: CameraSpec | None, given: Imagination | None):
        self.state, self.camera, self.given, self.built = state, camera, given, None

    def get(self) -> Imagination:
        if self.built is None:
            self.built = self.given or from_state(self.state, self.camera)
        return self.built

    @property
    def rollouts(self) -> int:
        return self.built.rollouts if self.built else 0

    @property
    def seconds(self) -> float:
        return self.built.seconds_spent if self.built else 0.0


def _chooser(planner, state: WorldState, history: list[str], attempts: list[dict[str, Any]]):
    """The verb chooser for one clause, and the path name (lexicon, scoring or generation)."""
    backend = planner.backend
    if backend.can_score or planner.scoring == "off" or backend.name == "scripted":
        scorer = backend if planner.scoring != "off" and backend.can_score else None

        def choose(ctext: str, text: str, g: Grounding) -> VerbChoice:
            return choose_verb(ctext, text, g, scorer, always=planner.scoring == "always")
        return choose, ("scoring" if scorer else "lexicon")

    def generate(ctext: str, text: str, g: Grounding) -> VerbChoice:
        u, tries = _generate(planner, state, text, history, ctext, g)
        attempts.extend(tries)
        return VerbChoice(u.intent.verb, "generation", {}, []) if u.intent else choose_verb(ctext, text, g, None)
    return generate, "generation"


def _understanding(r: Reading | None) -> Understanding:
    if r is None or r.grounding is None:
        empty = ground(WorldState(step=0, time=0.0, entities={}), "")
        return Understanding(None, {}, empty, VerbChoice("nothing", "default", {}, []), unknown=[])
    intent = r.intent.model_copy(update={"target": r.targets[0]}) if r.intent and r.targets else r.intent
    return Understanding(intent, r.decided_by, r.grounding, VerbChoice(intent.verb if intent else "nothing",
                                                                       r.decided_by.get("verb", "default"), {}, []),
                         unknown=r.unknown)


def _record(planner, action, path, u: Understanding, compiled: Compiled, issues, attempts, plan: TurnPlan,
            total: float, model_s: float, refused: bool) -> dict[str, Any]:
    backend, g, v = planner.backend, u.grounding, u.verb
    completion = sum(a["completion_tokens"] for a in attempts)
    return {
        "plan_format": "intents",
        "intent_path": path,
        "backend": backend.name,
        "model": backend.model,
        "seed": backend.seed if planner.seed is None else planner.seed,
        "action": action,
        "intent": u.intent.model_dump(mode="json", exclude_none=True) if u.intent else None,
        "decided_by": u.decided_by,
        "verb_choice": {"lexicon": {k: x for k, x in v.lexicon.items() if x}, "evidence": v.evidence,
                        "scores": v.scores, "model_s": round(v.model_s, 4)},
        "grounding": {"target": g.target, "candidates": g.candidates, "unknown": u.unknown, "support": g.support,
                      "aim": g.aim, "near": g.near, "along": g.along, "off": g.off},
        "compiler": {"notes": compiled.notes, "problem": compiled.problem},
        "attempts": attempts,
        "issues": issues,
        "repairs": [],
        "fell_back": bool(issues) or refused,
        "plan": plan.model_dump(mode="json"),
        "latency_s": round(total, 4),
        "model_s": round(model_s, 4),
        "overhead_s": round(max(0.0, total - model_s), 4),
        "tokens": {"prompt": sum(a["prompt_tokens"] for a in attempts), "completion": completion,
                   "per_s": round(completion / model_s, 2) if model_s > 0 and completion else None},
    }


def _generate(planner, state: WorldState, action: str, history: list[str], text: str,
              g: Grounding) -> tuple[Understanding, list[dict[str, Any]]]:
    """The model writes the intent; on failure after the retries, the lexicon's reading stands."""
    messages = intent_gen.messages(state, action, history)
    schema = intent_gen.schema(state, g)
    attempts: list[dict[str, Any]] = []
    generated = None
    for _ in range(planner.max_retries + 1):
        request = PlanRequest(messages=messages, schema=schema, seed=planner.seed,
                              max_tokens=min(planner.max_tokens, INTENT_MAX_TOKENS), temperature=planner.temperature,
                              context={"action": action, "state": state})
        reply = planner.backend.complete(request)
        problem = None
        try:
            generated = intent_gen.parse(reply.text)
        except ValueError as exc:
            problem = f"not an intent: {str(exc)[:300]}"
        attempts.append({"raw": reply.text, "issues": [problem] if problem else [], "finish_reason": reply.finish_reason,
                         "latency_s": round(reply.latency_s, 4), "prompt_tokens": reply.prompt_tokens,
                         "completion_tokens": reply.completion_tokens})
        if generated is not None:
            break
        messages = messages + [{"role": "assistant", "content": reply.text[:1000]},
                               {"role": "user", "content": f"That reply was rejected ({problem}). Reply with the "
                                                           "intent JSON only."}]
    if generated is None:
        choice = choose_verb(text, action, g, None)
        return build_intent(state, text, g, choice), attempts
    lexical = build_intent(state, text, g, VerbChoice(generated.verb, "generation", {}, []))
    if lexical.intent is None and lexical.unknown:
        return lexical, attempts  # the words name something that is not there: no guessing
    intent, by = intent_gen.merge(generated, lexical)
    return Understanding(intent, by, g, lexical.verb), attempts
