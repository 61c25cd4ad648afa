"""The intent layer without a model: grounding, the physics compiler, unknown referents, no-ops,
and the lexicon-only planner path, all against real MuJoCo worlds built from the shipped scenes."""

import math

import pytest
from pydantic import ValidationError

from agent.planner.backends import make_backend
from agent.planner.cerebellum.compiler import PUSH_SPEED, compile_intent
from simulator.bounds import entity_box
from agent.planner.words.grounding import ground
from agent.planner.words.intent import COLOURS, Intent
from agent.planner.planner import Planner
from agent.planner.validation import validate
from simulator import load_scene
from simulator.scene import CameraSpec
from simulator.world import World
from tests.conftest import SCENES


def world(name: str) -> World:
    return World(load_scene(SCENES / f"{name}.yaml"))


def cam(name: str) -> CameraSpec:
    return load_scene(SCENES / f"{name}.yaml").camera


def lexicon_planner() -> Planner:
    return Planner(make_backend("scripted"), plan_format="intents")


# ---- grounding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scene,action,target", [
    ("tower-knockover", "push block-3", "block-3"),                       # an id
    ("tower-knockover", "push block 3", "block-3"),                       # an id in words
    ("box-drop", "push the white ceramic cup", "mug"),                    # description words and a synonym
    ("bowling", "kick the dark teal ball", "ball"),                       # colour words from the description
    ("ball-off-table", "nudge the sphere", "ball"),                       # a shape word
    ("domino-chain", "paint the first domino red", "domino-1"),           # ordinal over numbered ids
    ("domino-chain", "remove the last domino", "domino-14"),
    ("tower-knockover", "remove the third block", "block-3"),
    ("tower-knockover", "push the top block", "block-8"),                 # spatial words
    ("tower-knockover", "paint the bottom block red", "block-1"),
    ("domino-chain", "remove the right-most domino", "domino-14"),
    ("domino-chain", "remove the left-most domino", "domino-1"),
    ("apple-from-branch", "the apple's stem snaps", "apple"),             # a possessive names the owner first
])
def test_grounding_resolves_the_words_to_one_entity(scene, action, target):
    w = world(scene)
    assert ground(w.state(), action, (), cam(scene)).target == target


def test_grounding_the_middle_of_a_group_and_a_relation():
    g = ground(world("tower-knockover").state(), "A rubber ball is thrown at the middle of the tower.")
    assert g.target is None and g.aim in ("block-4", "block-5") and g.new is not None and g.new.text == "rubber ball"
    g = ground(world("ball-off-table").state(), "A small cube is placed on the table next to the ball.")
    assert (g.support, g.near, g.new.text) == ("table", "ball", "small cube")


def test_it_is_the_earlier_referent_or_the_last_one_in_history():
    state = world("apple-from-branch").state()
    g = ground(state, "The apple's stem snaps and it falls.")
    assert [p.ids for p in g.phrases if p.words == ["it"]] == [["apple"]]
    state = world("box-drop").state()
    assert ground(state, "Paint it red.", ["The table stands still.", "The mug slides to the left."]).target == "mug"
    assert ground(state, "Paint it red.", []).target is None


def test_unknown_referents_are_reported_and_a_wrong_colour_is_unknown():
    g = ground(world("ball-off-table").state(), "push the box to the left")
    assert g.target is None and g.unknown == ["box"]
    g = ground(world("bowling").state(), "The blue pin turns red.")
    assert g.target is None and g.unknown == ["blue pin"]


# ---- compiler ------------------------------------------------------------------------------------


def test_left_and_toward_follow_the_camera_in_two_frames():
    state = world("ball-off-table").state()
    front = CameraSpec(position=(0.0, -3.0, 1.0), look_at=(0.0, 0.0, 0.8))  # looking along +y
    side = CameraSpec(position=(3.0, 0.0, 1.0), look_at=(0.0, 0.0, 0.8))    # looking along -x
    mass = state.entities["ball"].mass

    def dv(camera, direction):
        events = compile_intent(state, camera, Intent(verb="push", target="ball", direction=direction)).events
        return [x / mass for x in events[-1].impulse]

    assert dv(front, "left") == pytest.approx([-PUSH_SPEED["normal"], 0, 0], abs=1e-6)
    assert dv(front, "toward") == pytest.approx([0, -PUSH_SPEED["normal"], 0], abs=1e-6)
    assert dv(side, "left") == pytest.approx([0, -PUSH_SPEED["normal"], 0], abs=1e-6)   # screen left is -y from +x
    assert dv(side, "toward") == pytest.approx([PUSH_SPEED["normal"], 0, 0], abs=1e-6)  # toward the eye at +x
    assert dv(side, "away") == pytest.approx([-PUSH_SPEED["normal"], 0, 0], abs=1e-6)


def test_pushes_are_mass_aware_with_a_speed_per_strength():
    light, heavy = world("ball-off-table").state(), world("bowling").state()
    for strength in ("gentle", "normal", "hard"):
        for state in (light, heavy):
            ev = compile_intent(state, None, Intent(verb="push", target="ball", direction="right", strength=strength))
            speed = math.hypot(*ev.events[0].impulse) / state.entities["ball"].mass
            assert speed == pytest.approx(PUSH_SPEED[strength], rel=1e-4)  # same speed, impulse = mass x speed
    assert PUSH_SPEED["gentle"] < PUSH_SPEED["normal"] < PUSH_SPEED["hard"]


def test_pushing_a_held_body_releases_it_first_and_the_world_moves_it():
    w = world("domino-chain")
    state = w.state()
    events = compile_intent(state, cam("domino-chain"), Intent(verb="push", target="domino-1", direction="forward")).events
    assert [e.type for e in events] == ["set_property", "apply_impulse"] and events[0].fixed is False
    assert events[1].impulse[0] > 0  # forward is along the row, toward domino-2
    assert validate(state, {"events": [e.model_dump() for e in events]}) == []
    w.apply(events)
    w.advance(0.5, 24)
    assert not w.state().entities["domino-1"].fixed
    assert w.state().entities["domino-2"].position != state.entities["domino-2"].position


def test_spawns_sit_on_their_support_without_overlap():
    w = world("ball-off-table")
    state = w.state()
    intent = Intent(verb="spawn", shape="box", noun="wooden cube", place="table", target="ball", amount=3)
    events = compile_intent(state, None, intent).events
    assert len(events) == 3 and len({e.entity.id for e in events}) == 3
    table = entity_box(state.entities["table"])
    boxes = [entity_box(e) for e in state.entities.values()]
    for ev in events:
        e = ev.entity
        half = e.size[2] / 2
        assert table.lo[0] <= e.position[0] <= table.hi[0] and table.lo[1] <= e.position[1] <= table.hi[1]
        assert e.position[2] - half == pytest.approx(table.hi[2], abs=0.005)
        me = entity_box(type(state.entities["ball"])(
            shape=e.shape, size=e.size, position=e.position, orientation=(1, 0, 0, 0), velocity=(0, 0, 0),
            angular_velocity=(0, 0, 0), mass=1.0, color=e.color, fixed=False, description=""))
        assert all(me.penetration(b) == 0 for b in boxes)
        boxes.append(me)
    assert validate(state, {"events": [e.model_dump() for e in events]}) == []
    w.apply(events)
    w.advance(0.5, 24)
    after = w.state()
    for ev in events:  # they settle on the table: no explosion, no fall
        assert after.entities[ev.entity.id].position[2] > table.hi[2]
        assert math.hypot(*after.entities[ev.entity.id].velocity) < 0.05


def test_colours_come_by_name_and_masses_by_factor():
    state = world("box-drop").state()
    paint = compile_intent(state, None, Intent(verb="recolor", target="mug", colour="yellow")).events[0]
    assert paint.color == COLOURS["yellow"] == "#f7d633"  # the one colour table's yellow
    heavy = compile_intent(state, None, Intent(verb="heavier", target="mug", amount=10)).events[0]
    assert heavy.mass == pytest.approx(10 * state.entities["mug"].mass)
    light = compile_intent(state, None, Intent(verb="lighter", target="mug")).events[0]
    assert light.mass == pytest.approx(state.entities["mug"].mass / 3)


def test_intent_refuses_values_outside_its_sets():
    with pytest.raises(ValidationError, match="verb"):
        Intent(verb="explode", target="ball")
    with pytest.raises(ValidationError, match="colour"):
        Intent(verb="recolor", target="ball", colour="#123456")
    assert all(f.description or Intent.model_fields[n].description is None for n, f in Intent.model_fields.items())


# ---- the planner with the lexicon alone -----------------------------------------------------------


def test_unknown_referent_gives_no_events_and_says_what_is_there():
    state = world("ball-off-table").state()
    outcome = lexicon_planner().plan_turn(state, "Push the box to the left.", [], camera=cam("ball-off-table"))
    assert outcome.plan.events == []
    text = outcome.plan.narration
    assert text.startswith("There is no box here") and "ball" in text and "table" in text
    assert outcome.record.model_dump(mode="json")["intent"] is None and outcome.record.model_dump(mode="json")["understanding"]["grounding"]["unknown"] == ["box"]


@pytest.mark.parametrize("action", ["Nothing happens.", "Wait.", "The tower stands still.", "Nothing happens for a moment."])
def test_actions_that_ask_for_nothing_give_no_events(action):
    outcome = lexicon_planner().plan_turn(world("tower-knockover").state(), action, [])
    assert outcome.plan.events == [] and outcome.record.model_dump(mode="json")["intent"]["verb"] == "nothing"


def test_the_plan_record_says_who_decided_each_slot_and_the_events_apply():
    w = world("tower-knockover")
    outcome = lexicon_planner().plan_turn(w.state(), "Hit the top block hard to the left.", [],
                                          camera=cam("tower-knockover"))
    r = outcome.record.model_dump(mode="json")
    assert r["plan_format"] == "intents" and r["intent_path"] == "lexicon"
    assert r["intent"] == {"schema_version": 1, "verb": "push", "target": "block-8", "direction": "left",
                           "strength": "hard", "noun": ""}
    assert r["decided_by"] == {"verb": "lexicon", "target": "lexicon", "direction": "lexicon", "strength": "lexicon"}
    assert outcome.plan.narration == "The block 8 is pushed hard to the left."
    w.apply(outcome.plan.events)
    w.advance(0.5, 24)
    assert w.state().entities["block-8"].position[0] < -0.1


def test_the_scripted_backend_still_plans_events_by_default():
    planner = Planner(make_backend("scripted"))
    assert planner.plan_format == "events"
    with pytest.raises(ValueError, match="plan_format 'json' is not one of intents, events"):
        Planner(make_backend("scripted"), plan_format="json")
