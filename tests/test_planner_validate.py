"""Plan validation and repair: pure, never raises, never touches the world."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.planner.formats.plan import TurnPlan, plan_json_schema
from simulator.limits import LIMITS
from agent.planner.validation import check_plan, validate
from simulator.loader import parse_scene
from simulator.world import World

SCENE = """
name: planner-test
seed: 7
entities:
  - {id: table, shape: box, size: [1.2, 0.8, 0.05], position: [0, 0, 0.75], fixed: true, color: "#8b5a2b",
     description: a worn oak table top}
  - {id: ball, shape: sphere, size: [0.06], position: [-0.3, 0, 0.835], mass: 0.2, color: "#d62828",
     description: a glossy red rubber ball}
  - {id: crate, shape: box, size: [0.3, 0.3, 0.3], position: [1.5, 0, 0.15], mass: 5, color: "#a0a0a0",
     description: a grey metal crate}
"""


@pytest.fixture(scope="module")
def world():
    return World(parse_scene(SCENE))


def codes(state, plan):
    return [i.code for i in validate(state, plan)]


def impulse(entity, j):
    return {"type": "apply_impulse", "entity": entity, "impulse": j}


def test_valid_plan_has_no_issues_and_applies(world):
    plan = {"narration": "A flick.", "events": [impulse("ball", [0.3, 0, 0])], "caption": "A red ball rolls."}
    assert validate(world.state(), plan) == []
    checked = check_plan(world.state(), json.dumps(plan))
    assert checked.plan.events[0].entity == "ball" and checked.repairs == []


@pytest.mark.parametrize("name", ["red_ball", "the ball", "Ball", "bal", "rubber_ball"])
def test_near_miss_ids_are_repaired_and_recorded(world, name):
    checked = check_plan(world.state(), {"narration": "x", "events": [impulse(name, [0.3, 0, 0])]})
    assert checked.plan is not None, checked.issues
    assert checked.plan.events[0].entity == "ball"
    assert [(r.code, r.value, r.fix, r.path) for r in checked.repairs] == [("near_miss_id", name, "ball", ("events", 0, "entity"))]


@pytest.mark.parametrize("name", ["blue_ball", "box", "lamp"])
def test_ambiguous_or_foreign_ids_are_not_guessed(world, name):
    issues = validate(world.state(), {"events": [impulse(name, [0.3, 0, 0])]})
    assert [i.code for i in issues] == ["unknown_entity"]
    assert name in issues[0].message and "ball" in issues[0].message


def test_each_check_names_field_and_value(world):
    s = world.state()
    spawn = lambda **kw: {"type": "spawn", "entity": {"id": "cube", "shape": "box", "size": [0.1, 0.1, 0.1],
                                                      "position": [0, 0, 1.0], **kw}}
    cases = {
        "too_strong": [impulse("ball", [200, 0, 0])],
        "fixed_body": [impulse("table", [1, 0, 0])],
        "spawn_exists": [{"type": "spawn", "entity": {"id": "ball", "shape": "sphere", "size": [0.1],
                                                      "position": [0, 0, 2]}}],
        "duplicate_spawn": [spawn(), spawn(position=[0, 0, 2.0])],
        "spawn_overlap": [spawn(position=[0, 0, 0.75])],
        "below_floor": [spawn(position=[3, 0, -0.2])],
        "too_small": [{"type": "set_property", "entity": "ball", "mass": -1}],
        "bad_color": [{"type": "set_property", "entity": "ball", "color": "red"}],
        "bad_size": [spawn(size=[0.1, -0.1, 0.1])],
        "not_finite": [{"type": "set_property", "entity": "ball", "mass": math.inf}],
        "removed_entity": [{"type": "remove", "entity": "ball"}, impulse("ball", [0.1, 0, 0])],
        "too_fast": [{"type": "set_velocity", "entity": "ball", "velocity": [0, 0, 300]}],
    }
    for code, events in cases.items():
        issues = validate(s, {"narration": "x", "events": events})
        assert code in [i.code for i in issues], (code, issues)
        issue = next(i for i in issues if i.code == code)
        assert issue.path[:2] == ("events", len(events) - 1) and issue.where.split(".")[0] in issue.message
    force = {"type": "apply_force", "entity": "crate", "force": [5000, 0, 0], "duration": 1}
    assert codes(s, {"events": [force]}) == ["too_strong"]
    nan = {"type": "apply_force", "entity": "crate", "force": [math.nan, 0, 0], "duration": 1}
    assert codes(s, {"events": [nan]}) == ["not_finite"]


def test_raw_output_failures_are_issues(world):
    s = world.state()
    assert codes(s, '{"narration": "cut off') == ["not_json"]
    assert codes(s, "[1, 2]") == ["not_object"]
    assert codes(s, {"narration": 3}) == ["schema"]
    assert codes(s, {"events": [{"type": "explode", "entity": "ball"}]}) == ["unknown_event_type"]
    assert codes(s, {"events": [impulse("ball", [0.1, 0, 0])] * (LIMITS.max_events_per_step + 1)}) == ["too_many_events"]


def test_decoding_schema_is_bounded_everywhere():
    schema = plan_json_schema(["ball", "table"], ["ball"])
    assert list(schema["required"]) == ["narration", "events", "caption"]

    def walk(node, key=""):
        if isinstance(node, dict):
            if node.get("type") == "string" and "const" not in node and "enum" not in node:
                assert "maxLength" in node or "pattern" in node, key
            if node.get("type") == "array":
                assert "maxItems" in node, key
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(schema)
    variants = {v["properties"]["type"]["const"]: v for v in schema["properties"]["events"]["items"]["anyOf"]}
    assert variants["apply_impulse"]["properties"]["entity"]["enum"] == ["ball"]
    assert variants["remove"]["properties"]["entity"]["enum"] == ["ball", "table"]


def test_decoding_schema_compiles_to_a_llama_grammar():
    pytest.importorskip("xllamacpp", reason="llama.cpp (xllamacpp) is not installed")
    from agent.planner.backends import BackendError, PlanRequest, make_backend

    backend = make_backend("llamacpp", seed=0, n_threads=1)
    try:
        ask = [{"role": "user", "content": "Plan."}]
        reply = backend.complete(PlanRequest(messages=ask, schema=plan_json_schema(["ball"], ["ball"]), max_tokens=8))
        assert reply.text.startswith('{"narration": "')  # constrained, in json.dumps layout, from the first token
        with pytest.raises(BackendError, match="llama.cpp refused the request: .*unrecognized type nonsense"):
            bad = {"type": "object", "properties": {"a": {"type": "nonsense"}}}
            backend.complete(PlanRequest(messages=ask, schema=bad))
    finally:
        backend.close()


# ---- properties: hostile plans ------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["ball", "table", "crate", "red_ball", "ghost", "#ff0000", "#zzzzzz", ""]),
)
json_like = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=20)
vec = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.text(max_size=3)), min_size=0, max_size=4)
ids = st.sampled_from(["ball", "table", "crate", "red_ball", "Ball", "ghost", "", "cube"])
entity = st.fixed_dictionaries({
    "id": ids, "shape": st.sampled_from(["box", "sphere", "cylinder", "capsule", "blob"]), "size": vec, "position": vec,
}, optional={"mass": st.one_of(st.floats(), st.integers(-5, 5)), "color": st.sampled_from(["#ff0000", "red", "#12345"]),
             "velocity": vec, "fixed": st.booleans(), "orientation": vec})
event = st.one_of(
    st.fixed_dictionaries({"type": st.just("spawn"), "entity": entity}),
    st.fixed_dictionaries({"type": st.sampled_from(["apply_impulse", "apply_force", "set_velocity", "remove", "set_property", "bogus"]),
                           "entity": ids},
                          optional={"impulse": vec, "force": vec, "velocity": vec, "duration": st.floats(),
                                    "mass": st.floats(), "color": st.text(max_size=8), "fixed": st.booleans(),
                                    "friction": st.floats()}),
    json_like,
)
plans = st.one_of(
    st.fixed_dictionaries({}, optional={"narration": st.one_of(st.text(max_size=400), json_like), "events": st.one_of(st.lists(event, max_size=6), json_like),
                                        "caption": st.text(max_size=20), "schema_version": st.integers(0, 3)}),
    json_like,
    st.text(max_size=50),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans)
def test_hostile_plans_never_raise_and_never_change_the_world(world, plan):
    before = world.snapshot()
    issues = validate(world.state(), plan)
    assert isinstance(issues, list)
    json.dumps([i.model_dump(mode="json") for i in issues], allow_nan=False)
    checked = check_plan(world.state(), plan)
    assert (checked.plan is None) == bool(checked.issues)
    assert world.snapshot() == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(event, max_size=4))
def test_plans_that_pass_validation_always_apply(world, events):
    before = world.snapshot()
    checked = check_plan(world.state(), {"narration": "x", "events": events})
    if checked.plan is None:
        assert world.snapshot() == before
        return
    assert isinstance(checked.plan, TurnPlan)
    try:
        world.apply(checked.plan.events)
        world.advance(0.05, 20)
        state = world.state()
        assert all(math.isfinite(x) for e in state.entities.values() for x in e.position + e.velocity)
    finally:
        world.restore(before)
