"""The intents plan format: read the action into a small program of typed steps, act on each, narrate.

Three ways to each step's verb, recorded in the plan record as ``intent_path``:

- ``lexicon``: grounding and the lexicon alone (``Planner(scoring="off")``);
- ``scoring``: the same, with the model's noisy-channel likelihoods choosing the verb whenever the
  lexicon is unsure (backends with ``can_score``: the embedded llama.cpp model);
- ``generation``: backends that write (OpenAI-compatible servers, vLLM). The model writes the whole
  program in one request under a JSON Schema grounded in the world (:mod:`.program_gen`); each of its
  steps joins the words' reading of the clause it names, the slots the words state outright winning.
  When that reply fails after the retries, the model writes one intent per clause instead
  (:mod:`.intent_gen`), and the record's ``program_reader`` says ``per_clause``.

Before any of that: another language, or a question, is answered in words and changes nothing. The
events pass the same :func:`agent.planner.validation.check_plan` as the events format.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agent.planner.ask import ask
from agent.planner.backends.base import Backend, PlanRequest
from agent.planner.cerebellum.compiler import Compiled
from agent.planner.cerebellum.imagination import Imagination, from_state
from agent.planner.cerebellum.steps import act
from agent.planner.formats import intent_gen, program_gen
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan
from agent.planner.narration.answer import answer, is_question
from agent.planner.narration.describe import caption_for
from agent.planner.record import Attempt, PlannedTurn, PlanRecord
from agent.planner.settings import PlannerSettings
from agent.planner.validation import check_plan
from agent.planner.words import honesty
from agent.planner.words.grounding import Grounding, ground
from agent.planner.words.program import Reading, Step, clauses
from agent.planner.words.reading import read_clause
from agent.planner.words.understand import Understanding, build_intent
from agent.planner.words.intent import VERBS
from agent.planner.words.verbs import VerbChoice, choose_verb, is_sure, lexicon_scores
from simulator.checks import Problem
from simulator.scene import CameraSpec
from simulator.state import WorldState

INTENT_MAX_TOKENS = 120


class _Program:
    """What the steps of one action add up to while they are read and acted on."""

    def __init__(self):
        self.readings: list[Reading] = []
        self.steps: list[Step] = []
        self.events: list = []
        self.sentences: list[str] = []
        self.notes: list[str] = []
        self.attempts: list[Attempt] = []
        self.path = "lexicon"
        self.reader: str | None = None
        """Who wrote the program's steps (generation backends): 'generation' or 'per_clause'."""


def plan_intents(backend: Backend, settings: PlannerSettings, state: WorldState, action: str, history: list[str],
                 camera: CameraSpec | None, imagination: Imagination | None = None) -> PlannedTurn:
    """Read `action` as a program of steps, act on each (imagining goals first), check, narrate."""
    start = time.perf_counter()
    lazy = _LazyImagination(state, camera, imagination)
    prog = _Program()
    doubt = honesty.language(action)
    if doubt is not None:
        prog.sentences.append(doubt.message)
        prog.steps.append(Step(text=action[:500], verb="none", verdict=doubt.code))
    elif is_question(action):
        prog.sentences.append(answer(state, action, history, camera))
        prog.steps.append(Step(text=action[:500], verb="answer", verdict="answered"))
    else:
        _read_and_act(backend, settings, state, action, history, camera, lazy, prog)
    issues = check_plan(state, TurnPlan(events=prog.events)).issues if prog.events else []
    compiled = Compiled(prog.events, prog.notes)
    if issues:
        compiled = Compiled([], prog.notes, problem="the compiled events did not validate")
        prog.sentences = [f"Nothing happens: the planned events did not validate ({issues[0].message})."[:200]]
    narration = " ".join(s for s in prog.sentences if s)[:NARRATION_MAX] or "Nothing happens."
    plan = TurnPlan(narration=narration, events=compiled.events, caption=caption_for(state, narration))
    record = _record(backend, settings, action, prog, compiled, issues, plan, lazy)
    return PlannedTurn(plan=plan, record=record.timed(time.perf_counter() - start))


def _read_and_act(backend, settings, state, action, history, camera, lazy, prog: _Program) -> None:
    parts = clauses(action)
    program = _ask_program(backend, settings, state, action, history, prog) if _writes(backend, settings) else None
    for k, text in enumerate(parts):
        hist = list(history) + parts[:k]
        choose, how = _chooser(backend, settings, state, history, prog.attempts)
        if program is not None:
            readings, step_by = program.read(state, text, hist, camera, choose)
        else:
            readings = [read_clause(state, text, hist, camera, choose)]
            step_by = "per_clause" if prog.reader == "per_clause" else "lexicon"
        prog.path = how if how != "lexicon" else prog.path
        for r in readings:
            _act(state, camera, r, step_by, lazy, prog)
    if program is not None:
        prog.steps += program.unused()


def _act(state, camera, r: Reading, step_by: str, lazy, prog: _Program) -> None:
    """Act on one reading; its step records who decided each part (`step_by`: who wrote the step)."""
    acted = act(state, camera, r, lazy.get)
    acted.step.decided_by = {"step": step_by, **r.decided_by}
    acted.step.mode, acted.step.dropped = r.mode, list(r.dropped)
    prog.readings.append(r)
    prog.steps.append(acted.step)
    prog.events += acted.events
    prog.notes += acted.notes + [f"the model named {d}, which the words did not: not acted on" for d in r.dropped]
    prog.sentences.append(acted.sentence)


def _writes(backend: Backend, settings: PlannerSettings) -> bool:
    """Whether the model writes (generation) rather than scores or stays out."""
    return backend.can_generate and not backend.can_score and settings.scoring != "off"


def _ask_program(backend, settings, state, action, history, prog: _Program) -> _ModelProgram | None:
    """The model's whole program, or None (the reply failed after the retries: per clause instead)."""
    request = PlanRequest(messages=program_gen.messages(state, action, history), schema=program_gen.schema(state),
                          seed=settings.seed, max_tokens=settings.max_tokens, temperature=settings.temperature,
                          context={"action": action, "state": state})

    def follow_up(reply: str, problems: list[Problem]) -> list[dict[str, str]]:
        where = f" at {problems[0].where}" if problems[0].path else ""
        return [{"role": "assistant", "content": reply[:2000]},
                {"role": "user", "content": f"That reply was rejected{where} ({problems[0].message}). Reply with the "
                                            "program JSON only."}]

    asked = ask(backend, request, lambda raw: program_gen.parse(state, raw), follow_up, settings.max_retries)
    prog.attempts.extend(asked.attempts)
    prog.reader = "generation" if asked.value is not None else "per_clause"
    return _ModelProgram(asked.value, ground(state, action, history, None)) if asked.value is not None else None


class _ModelProgram:
    """The model's steps while the clauses are read: which step belongs to which clause."""

    def __init__(self, steps: list[Reading], whole: Grounding):
        self.steps = steps
        self.used = [False] * len(steps)
        self.named = {i for p in whole.phrases if p.kind in ("entity", "group", "ref") for i in p.ids}

    def _match(self, g: Grounding) -> list[int]:
        ids = {i for p in g.phrases if p.kind in ("entity", "group", "ref") for i in p.ids}
        ids |= set(g.target_group) | {i for i in (g.target, g.support, g.aim, g.near, g.along, g.off) if i}
        free = [k for k, s in enumerate(self.steps) if not self.used[k]]
        hits = [k for k in free if set(self.steps[k].targets) & ids]
        return hits or [k for k in free if self.named.isdisjoint(self.steps[k].targets)][:1]

    def read(self, state, text, history, camera, per_clause) -> tuple[list[Reading], str]:
        """The clause read by the words, joined with the model's steps for it; a clause no step
        covers is asked alone (`per_clause`)."""
        matched: list[int] = []

        def choose(ctext: str, plain: str, g: Grounding) -> VerbChoice:
            matched.extend(self._match(g))
            if not matched:
                return per_clause(ctext, plain, g)
            for k in matched:
                self.used[k] = True
            return stated_or(self.steps[matched[0]].intent.verb, ctext, g)

        r = read_clause(state, text, history, camera, choose)
        if not matched:
            return [r], "per_clause"
        if r.intent is None or r.doubt:
            return [r], "generation"  # a doubt or an unknown referent of the words stands
        split = len(matched) > 1 and r.decided_by.get("verb") == "generation"
        return [program_gen.merge_step(state, self.steps[k], r, split) for k in matched[:None if split else 1]], \
            "generation"

    def unused(self) -> list[Step]:
        """The model's steps no clause of the words says: recorded, not acted on."""
        return [Step(text="", verb=s.intent.verb, verdict="no clause of the words says this step: not acted on",
                     decided_by={"step": "generation"}, dropped=list(s.targets), mode=s.mode)
                for k, s in enumerate(self.steps) if not self.used[k]]


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


def _chooser(backend: Backend, settings: PlannerSettings, state: WorldState, history: list[str],
             attempts: list[Attempt]) -> tuple[Callable[[str, str, Grounding], VerbChoice], str]:
    """The verb chooser for one clause, and the path name (lexicon, scoring or generation)."""
    if backend.can_score or settings.scoring == "off" or not backend.can_generate:
        scorer = backend if settings.scoring != "off" and backend.can_score else None

        def choose(ctext: str, text: str, g: Grounding) -> VerbChoice:
            return choose_verb(ctext, text, g, scorer, always=settings.scoring == "always")
        return choose, ("scoring" if scorer else "lexicon")

    def generate(ctext: str, text: str, g: Grounding) -> VerbChoice:
        u, tries = _generate(backend, settings, state, text, history, ctext, g)
        attempts.extend(tries)
        return stated_or(u.intent.verb, ctext, g) if u.intent else choose_verb(ctext, text, g, None)
    return generate, "generation"


def stated_or(model_verb: str, ctext: str, g: Grounding) -> VerbChoice:
    """The model's verb, unless the words state another outright (the lexicon is sure of it): then
    theirs. A model never swaps the verb the words name ("make the cube heavier" is never a push)."""
    scores, evidence = lexicon_scores(ctext, g)
    best = max(VERBS, key=lambda v: scores[v])
    if is_sure(scores) and best != model_verb:
        return VerbChoice(best, "lexicon", scores, evidence)
    return VerbChoice(model_verb, "generation", scores, evidence)


def _record(backend: Backend, settings: PlannerSettings, action: str, prog: _Program, compiled: Compiled,
            issues: list[Problem], plan: TurnPlan, lazy: _LazyImagination) -> PlanRecord:
    first = next((r for r in prog.readings if r.intent is not None), prog.readings[0] if prog.readings else None)
    g = first.grounding if first is not None else None
    intent = None
    if first is not None and first.intent is not None:
        intent = first.intent.model_copy(update={"target": first.targets[0]}) if first.targets else first.intent
    v = first.verb if first is not None else None
    understanding = {
        "verb_choice": None if v is None else {
            "lexicon": {k: x for k, x in v.lexicon.items() if x}, "evidence": v.evidence, "scores": v.scores,
            "model_s": round(v.model_s, 4)},
        "grounding": None if g is None else {
            "target": g.target, "candidates": g.candidates, "unknown": first.unknown, "support": g.support,
            "aim": g.aim, "near": g.near, "along": g.along, "off": g.off},
        "compiler": {"notes": compiled.notes, "problem": compiled.problem,
                     "issues": [i.model_dump(mode="json") for i in issues]},
    }
    return PlanRecord(plan_format="intents", intent_path=prog.path, backend=backend.name, model=backend.model,
                      seed=backend.seed if settings.seed is None else settings.seed, action=action,
                      intent=intent.model_dump(mode="json", exclude_none=True) if intent else None,
                      decided_by=first.decided_by if first is not None else {}, understanding=understanding,
                      steps=prog.steps, imagined_rollouts=lazy.rollouts, imagined_s=round(lazy.seconds, 4),
                      attempts=prog.attempts, fell_back=bool(issues), plan=plan, program_reader=prog.reader,
                      model_s=round(sum(r.verb.model_s for r in prog.readings if r.verb is not None), 4))


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
    intent, by = intent_gen.merge(generated, lexical.intent, lexical.decided_by)
    return Understanding(intent, by, g, lexical.verb), asked.attempts
