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

from agent.planner.ask import ask
from agent.planner.backends.base import Backend, PlanRequest
from agent.planner.cerebellum.compiler import Compiled, compile_intent
from agent.planner.formats import intent_gen
from agent.planner.formats.plan import TurnPlan
from agent.planner.narration.describe import caption_for
from agent.planner.narration.narrate import intent_narration, unknown_narration
from agent.planner.record import Attempt, PlannedTurn, PlanRecord
from agent.planner.settings import PlannerSettings
from agent.planner.validation import check_plan
from agent.planner.words.grounding import Grounding, ground
from agent.planner.words.lexicon import normalised
from agent.planner.words.understand import Understanding, build_intent
from agent.planner.words.verbs import VerbChoice, choose_verb
from simulator.checks import Problem
from simulator.scene import CameraSpec
from simulator.state import WorldState

INTENT_MAX_TOKENS = 120


def plan_intents(backend: Backend, settings: PlannerSettings, state: WorldState, action: str, history: list[str],
                 camera: CameraSpec | None) -> PlannedTurn:
    """Read `action` into an intent, compile it, check the events, narrate."""
    start = time.perf_counter()
    text = normalised(action)
    g = ground(state, action, history, camera)
    attempts: list[Attempt] = []
    model_s = 0.0
    if backend.can_score or settings.scoring == "off" or not backend.can_generate:
        scorer = backend if settings.scoring != "off" and backend.can_score else None
        choice = choose_verb(text, action, g, scorer, always=settings.scoring == "always")
        u = build_intent(state, text, g, choice)
        path, model_s = ("scoring" if scorer else "lexicon"), choice.model_s
    else:
        u, attempts = _generate(backend, settings, state, action, history, text, g)
        path = "generation"
    compiled, issues = Compiled([]), []
    if u.intent is None:
        narration = unknown_narration(u.unknown, state)
    else:
        compiled = compile_intent(state, camera, u.intent)
        issues = check_plan(state, TurnPlan(events=compiled.events)).issues
        if issues:
            compiled = Compiled([], compiled.notes, problem="the compiled events did not validate")
        narration = intent_narration(u.intent, compiled, state)
    plan = TurnPlan(narration=narration, events=compiled.events, caption=caption_for(state, narration))
    record = _record(backend, settings, action, path, u, compiled, issues, attempts, plan, model_s)
    return PlannedTurn(plan=plan, record=record.timed(time.perf_counter() - start))


def _record(backend: Backend, settings: PlannerSettings, action: str, path: str, u: Understanding,
            compiled: Compiled, issues: list[Problem], attempts: list[Attempt], plan: TurnPlan,
            model_s: float) -> PlanRecord:
    g, v = u.grounding, u.verb
    understanding = {
        "verb_choice": {"lexicon": {k: x for k, x in v.lexicon.items() if x}, "evidence": v.evidence,
                        "scores": v.scores, "model_s": round(v.model_s, 4)},
        "grounding": {"target": g.target, "candidates": g.candidates, "unknown": u.unknown, "support": g.support,
                      "aim": g.aim, "near": g.near, "along": g.along, "off": g.off},
        "compiler": {"notes": compiled.notes, "problem": compiled.problem, "issues": [i.model_dump(mode="json")
                                                                                    for i in issues]},
    }
    return PlanRecord(plan_format="intents", intent_path=path, backend=backend.name, model=backend.model,
                      seed=backend.seed if settings.seed is None else settings.seed, action=action,
                      intent=u.intent.model_dump(mode="json", exclude_none=True) if u.intent else None,
                      decided_by=u.decided_by, understanding=understanding, attempts=attempts,
                      fell_back=bool(issues), plan=plan, model_s=round(model_s, 4))


def _generate(backend: Backend, settings: PlannerSettings, state: WorldState, action: str, history: list[str],
              text: str, g: Grounding) -> tuple[Understanding, list[Attempt]]:
    """The model writes the intent; on failure after the retries, the lexicon's reading stands."""
    request = PlanRequest(messages=intent_gen.messages(state, action, history), schema=intent_gen.schema(state, g),
                          seed=settings.seed, max_tokens=min(settings.max_tokens, INTENT_MAX_TOKENS),
                          temperature=settings.temperature, context={"action": action, "state": state})

    def parse(reply: str):
        try:
            return intent_gen.parse(reply), []
        except ValueError as exc:
            return None, [Problem(code="not_an_intent", value=reply[:200], message=f"not an intent: {str(exc)[:300]}")]

    def follow_up(reply: str, problems: list[Problem]) -> list[dict[str, str]]:
        return [{"role": "assistant", "content": reply[:1000]},
                {"role": "user", "content": f"That reply was rejected ({problems[0].message}). Reply with the "
                                            "intent JSON only."}]

    asked = ask(backend, request, parse, follow_up, settings.max_retries)
    if asked.value is None:
        return build_intent(state, text, g, choose_verb(text, action, g, None)), asked.attempts
    generated = asked.value
    lexical = build_intent(state, text, g, VerbChoice(generated.verb, "generation", {}, []))
    if lexical.intent is None and lexical.unknown:
        return lexical, asked.attempts  # the words name something that is not there: no guessing
    intent, by = intent_gen.merge(generated, lexical)
    return Understanding(intent, by, g, lexical.verb), asked.attempts
