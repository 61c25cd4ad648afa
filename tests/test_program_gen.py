"""The whole program by constrained generation (backends that write): the schema grounded in the world,
the merge's safety rules, the fallback to one intent per clause, and a real llama.cpp server."""

import json
import math

import pytest

from agent.planner import Planner
from agent.planner.backends.base import Backend, Completion
from agent.planner.cerebellum.steps import STEP_GOALS
from agent.planner.formats import program_gen
from agent.planner.words.camera import screen_axes
from agent.planner.words.intent import COLOURS, DIRECTIONS, VERBS
from simulator import goals as G
from simulator.loader import load_scene
from simulator.world import World
from tests.conftest import ROOT

SCENE = ROOT / "scenes" / "block-stack.yaml"


class Fake(Backend):
    """Answers a program request with `program` (or each reply of `programs` in turn) and an intent
    request with `intent`; keeps every request."""

    name, model = "fake", "fake"

    def __init__(self, programs, intent=None):
        self.programs, self.intent, self.requests = list(programs), intent, []

    def complete(self, request):
        self.requests.append(request)
        if "steps" in request.schema["properties"]:
            reply = self.programs.pop(0) if len(self.programs) > 1 else self.programs[0]
        else:
            reply = self.intent
        return Completion(text=reply if isinstance(reply, str) else json.dumps(reply), finish_reason="stop")


def step(verb="push", targets=(), **slots):
    out = {"verb": verb, "targets": list(targets), "direction": "none", "strength": "normal", "colour": "none",
           "shape": "none", "place": "none", "amount": 1, "noun": "", "goal": "none", "mode": "in_order"}
    out.update(slots)
    return out


@pytest.fixture
def world():
    return World(load_scene(SCENE))


def plan(world, backend, action):
    return Planner(backend).plan_turn(world.state(), action, [], camera=world.scene.camera)


def along(world, event, word):
    v = screen_axes(world.scene.camera).vector(word)
    return sum(a * b for a, b in zip(event.impulse, v))


def test_the_schema_enums_are_grounded_in_the_world(world):
    state = world.state()
    s = program_gen.schema(state)
    item = s["properties"]["steps"]["items"]["properties"]
    assert item["targets"]["items"]["enum"] == list(state.entities)
    assert item["place"]["enum"] == list(state.entities) + ["floor", "none"]
    assert item["verb"]["enum"] == list(VERBS) and item["direction"]["enum"] == list(DIRECTIONS) + ["none"]
    assert item["colour"]["enum"] == list(COLOURS) + ["none"]
    assert item["goal"]["enum"] == list(STEP_GOALS) + ["none"]
    kinds = {c.model_fields["kind"].default for c in (G.Topples, G.EndsOff, G.Reaches, G.EndsOn, G.EndsIn, G.EndsNear)}
    assert set(STEP_GOALS) == kinds  # the goal vocabulary is simulator.goals', not a copy of its own


def test_a_compound_program_is_read_in_one_request_and_the_words_state_the_slots(world):
    fake = Fake([{"steps": [step(targets=["ball"], direction="right"), step(targets=["cube"], direction="left")]}])
    out = plan(world, fake, "Push the ball left and the cube right.")
    assert len(fake.requests) == 1  # the whole program, no request per clause
    r = out.record
    assert r.program_reader == "generation" and r.intent_path == "generation"
    assert [s.targets for s in r.steps] == [["ball"], ["cube"]]
    for s in r.steps:
        assert s.decided_by["step"] == s.decided_by["verb"] == "generation"
        assert s.decided_by["direction"] == s.decided_by["target"] == "lexicon"  # stated outright: the words win
    ball, cube = ({e.entity: e for e in out.plan.events}[k] for k in ("ball", "cube"))
    assert along(world, ball, "left") > 0 and along(world, cube, "right") > 0


@pytest.mark.parametrize("targets", [["cube"], ["ball", "cube"], ["block-1"]])
def test_a_body_nobody_named_is_never_acted_on(world, targets):
    fake = Fake([{"steps": [step(targets=targets, direction="left")]}])
    out = plan(world, fake, "Push the ball to the left.")
    acted = {e.entity for e in out.plan.events}
    assert acted == {"ball"}, out.plan.events
    unnamed = [t for t in targets if t != "ball"]
    assert out.record.steps[0].dropped == unnamed and out.record.steps[0].targets == ["ball"]
    assert any("not acted on" in n for n in out.record.understanding["compiler"]["notes"])


def test_an_extra_step_no_clause_says_is_recorded_and_not_acted_on(world):
    fake = Fake([{"steps": [step(targets=["ball"]), step("remove", targets=["cube"])]}])
    out = plan(world, fake, "Push the ball to the left.")
    assert {e.entity for e in out.plan.events} == {"ball"} and all(e.type != "remove" for e in out.plan.events)
    extra = out.record.steps[-1]
    assert extra.verb == "remove" and extra.dropped == ["cube"] and "not acted on" in extra.verdict


def test_a_model_goal_about_an_unnamed_body_is_not_pursued(world):
    fake = Fake([{"steps": [step(targets=["ball"], place="cube", goal="reaches")]}])
    out = plan(world, fake, "Push the ball.")
    s = out.record.steps[0]
    assert s.decided_by["goal"] != "generation" and "place" not in s.decided_by
    assert "reaches" not in [g["kind"] for g in (s.goal or {}).get("all", [])]
    assert {e.entity for e in out.plan.events} <= {"ball"}


def test_a_model_goal_the_words_do_not_state_is_imagined(world):
    fake = Fake([{"steps": [step(targets=["ball"], place="cube", goal="reaches")]}])
    out = plan(world, fake, "Push the ball past the cube.")
    s = out.record.steps[0]
    assert s.decided_by["goal"] == "generation" and s.goal is not None
    assert [g["kind"] for g in s.goal["all"]][0] == "reaches" and s.goal["tried"]  # imagination checked it


def test_a_failed_program_falls_back_to_one_intent_per_clause(world):
    intent = {"verb": "push", "target": "ball", "direction": "left", "strength": "normal", "colour": "none",
              "shape": "none", "place": "none", "amount": 1, "noun": ""}
    fake = Fake(["{not json", {"steps": [{"verb": "fly"}]}, {"steps": []}], intent=intent)
    out = plan(world, fake, "Push the ball left and the cube right.")
    r = out.record
    assert r.program_reader == "per_clause"
    codes = [[i.code for i in a.issues] for a in r.attempts[:3]]
    assert codes == [["not_json"], ["bad_intent"], ["not_a_program"]]
    assert r.attempts[1].issues[0].path == ("steps", 0)
    assert len(fake.requests) == 3 + 2  # the retries, then one intent per clause
    assert [s.decided_by["step"] for s in r.steps] == ["per_clause", "per_clause"]
    assert {e.entity for e in out.plan.events} == {"ball", "cube"}


def test_questions_and_refusals_ask_no_model_and_change_nothing(world):
    fake = Fake([{"steps": [step("remove", targets=["ball"])]}])
    out = plan(world, fake, "Is the ball on the table?")
    assert out.plan.events == [] and fake.requests == []
    out = plan(world, fake, "Put the ball back where it was.")
    assert out.plan.events == [] and out.record.steps[0].verdict == "refused"


def test_a_real_llama_server_writes_a_program_covering_both_targets(world):
    pytest.importorskip("xllamacpp", reason="llama.cpp (xllamacpp) is not installed (the [llm] extra)")
    from agent.planner.backends import make_backend
    from tests.test_planner_server import ALIAS, serve_llama

    with serve_llama() as (url, _proc):
        backend = make_backend("openai", base_url=url, model=ALIAS, seed=0, timeout_s=180)
        out = plan(world, backend, "Push the ball left and the cube right.")
    r = out.record
    first = json.loads(r.attempts[0].raw)  # the first request was the whole program, under its schema
    assert isinstance(first["steps"], list) and 1 <= len(first["steps"]) <= program_gen.MAX_STEPS
    assert r.program_reader in ("generation", "per_clause")
    covered = {t for s in r.steps for t in s.targets}
    assert {"ball", "cube"} <= covered, r.steps
    assert all(s.decided_by.get("step") in ("generation", "per_clause") for s in r.steps)
    named = [s for s in r.steps if s.targets]
    assert all(s.decided_by["target"] in ("lexicon", "generation") for s in named if "target" in s.decided_by)
    acted = {e.entity for e in out.plan.events}
    assert acted <= {"ball", "cube"} and acted, out.plan.events  # nothing nobody named


def test_a_verb_the_words_state_outright_wins_and_scenery_named_as_a_place_is_not_acted_on():
    world = World(load_scene(ROOT / "scenes" / "kitchen-table.yaml"))
    fake = Fake([{"steps": [step(targets=["table"], direction="left")]}])
    out = plan(world, fake, "Add four lemons to the table.")
    assert [e.type for e in out.plan.events] == ["spawn"] * 4, out.plan.events
    assert out.record.steps[0].decided_by["verb"] == "lexicon" and out.record.steps[0].decided_by["step"] == "generation"


def test_a_count_the_words_state_wins_over_the_model_amount():
    world = World(load_scene(ROOT / "scenes" / "kitchen-table.yaml"))
    fake = Fake([{"steps": [step("spawn", targets=["table"], shape="sphere", place="table", amount=1)]}])
    out = plan(world, fake, "Add a dozen grapes to the table.")
    assert [e.type for e in out.plan.events] == ["spawn"] * 12
    assert out.record.steps[0].decided_by["amount"] == "lexicon"


def test_a_clause_asked_alone_keeps_the_verb_the_words_state(world):
    """The clause no model step covers is asked alone; the model's push never replaces "heavier"."""
    push = {"verb": "push", "target": "cube", "direction": "down", "strength": "normal", "colour": "none",
            "shape": "none", "place": "none", "amount": 1, "noun": ""}
    fake = Fake([{"steps": [step("recolor", targets=["ball"], colour="blue")]}], intent=push)
    out = plan(world, fake, "Paint the ball blue and make the cube heavier.")
    assert [(e.type, e.entity) for e in out.plan.events] == [("set_property", "ball"), ("set_property", "cube")]
    cube = out.plan.events[1]
    assert cube.mass is not None and cube.mass > world.state().entities["cube"].mass
    last = out.record.steps[-1]
    assert last.decided_by["step"] == "per_clause" and last.decided_by["verb"] == "lexicon"


def test_a_push_up_or_down_nobody_said_is_aimed_as_a_plain_push(world):
    """A model copying its examples writes "down" for "Barely move the cube": a push into the table
    moves nothing, so a direction the words did not state is not taken for up or down."""
    fake = Fake([{"steps": [step(targets=["cube"], direction="down")]}])
    out = plan(world, fake, "Barely move the cube.")
    assert [(e.type, e.entity) for e in out.plan.events] == [("apply_impulse", "cube")]
    impulse = out.plan.events[0].impulse
    assert impulse[2] == 0 and math.hypot(impulse[0], impulse[1]) > 0
    assert out.record.steps[0].decided_by.get("direction") != "generation"


def test_let_it_fall_is_a_release_whatever_the_model_says():
    world = World(load_scene(ROOT / "scenes" / "box-drop.yaml"))
    fake = Fake([{"steps": [step(targets=["box"], direction="down", place="mug", goal="reaches")]}])
    out = plan(world, fake, "Let the box fall onto the mug.")
    assert [(e.type, e.entity, e.fixed) for e in out.plan.events] == [("set_property", "box", False)]
