"""Worlds from words: the reader, the layout compiler and `callosum new` through the real CLI."""

from __future__ import annotations

import json

import pytest

from agent.planner.backends import Completion
from agent.worlds import NothingToBuild, new_world, read_prompt
from agent.worlds.framing import visible_pixels
from agent.worlds.model_reader import intent_schema, read_with_model
from simulator.bounds import entity_box
from simulator.loader import load_scene
from simulator.world import World
from tests.conftest import run_cli


def _rel(intent):
    return {(r.kind, r.subject, r.object) for r in intent.relations}


@pytest.mark.parametrize("prompt, things, relations", [
    ("three red balls on a wooden table", {"ball": 3, "table": 1}, {("on", "ball", "table")}),
    ("a table with two mugs on it", {"table": 1, "mug": 2}, {("on", "mug", "table")}),
    ("On the desk, a bottle and a can.", {"desk": 1, "bottle": 1, "can": 1}, {("on", "bottle", "desk"), ("on", "can", "desk")}),
    ("a stack of four bricks next to a barrel", {"brick": 4, "barrel": 1},
     {("stacked", "brick", None), ("next_to", "brick", "barrel")}),
    ("a chair behind a sofa", {"chair": 1, "sofa": 1}, {("behind", "chair", "sofa")}),
    ("a cardboard box", {"carton": 1}, set()),
    ("a red ball and two wooden crates on a table, a lemon next to the ball",
     {"ball": 1, "crate": 2, "table": 1, "sphere": 1},
     {("on", "ball", "table"), ("on", "crate", "table"), ("next_to", "lemon", "ball")}),  # the comma ends a clause
    ("a ball, a cup and a plate on the table", {"ball": 1, "cup": 1, "plate": 1, "table": 1},
     {("on", "ball", "table"), ("on", "cup", "table"), ("on", "plate", "table")}),  # the comma makes a list
])
def test_the_grammar_reads_things_counts_and_relations(prompt, things, relations):
    intent = read_prompt(prompt)
    assert {t.template: t.count for t in intent.things} == things
    assert _rel(intent) == relations


def test_colours_materials_sizes_ground_light_and_renderer_only_words():
    intent = read_prompt("a small blue glass ball next to a big metal bucket of water on a snowy lawn at night")
    ball, bucket = intent.things
    assert (ball.color, ball.material, ball.scale < 1) == ("blue", "glass", True)
    assert (bucket.material, bucket.scale > 1) == ("metal", True)
    assert (intent.ground, intent.lighting, intent.renderer_only) == ("snow", "night", ["water"])


def test_a_first_action_names_its_target_and_direction():
    act = read_prompt("someone kicks the red ball toward the goal").action
    assert (act.verb, act.target, act.toward) == ("kick", "ball", "goal")
    assert read_prompt("push the crate to the left").action.direction == "left"


def test_a_built_world_is_settled_framed_and_holds_its_relations():
    built = new_world("two apples in a bowl on a table next to a chair")
    world = World(built.scene)
    s0 = world.state()
    world.advance(1.0, 10)
    s1 = world.state()
    assert all(max(abs(a - b) for a, b in zip(s0.entities[e].position, s1.entities[e].position)) < 0.01
               for e in s0.entities)
    table, bowl = entity_box(s1.entities["table"]), entity_box(s1.entities["bowl"])
    assert bowl.lo[2] == pytest.approx(table.hi[2], abs=0.01)
    for apple in ("apple-1", "apple-2"):
        a = entity_box(s1.entities[apple])
        assert bowl.lo[2] < a.lo[2] < bowl.hi[2] and bowl.lo[0] < a.lo[0] and a.hi[0] < bowl.hi[0]
    assert entity_box(s1.entities["chair"]).gap(table) < 0.3
    pixels = visible_pixels(built.scene)
    assert all(pixels.get(e, 0) >= 6 for e in s0.entities), pixels


def test_everyday_objects_come_from_the_object_catalogue_at_their_real_size():
    intent = read_prompt("four lemons in a bowl on a table")
    lemons = next(t for t in intent.things if t.noun == "lemon")
    assert lemons.count == 4 and lemons.template == "sphere" and 0.02 < lemons.params["radius"] < 0.05
    built = new_world("four lemons in a bowl on a table")
    world = World(built.scene)
    world.advance(1.0, 10)
    s1 = world.state()
    bowl = entity_box(s1.entities["bowl"])
    for i in range(1, 5):
        e = s1.entities[f"lemon-{i}"]
        assert e.description == "a lemon" and bowl.lo[2] < entity_box(e).lo[2] < bowl.hi[2]


def test_the_subject_is_near_the_centre_of_the_first_frame():
    import numpy as np

    from renderer.geometry import GeometryRenderer

    built = new_world("a red ball next to a long fence")
    with GeometryRenderer(built.scene, preset="fast") as r:
        frame = r.render(World(built.scene), segmentation=True)
    ys, xs = np.nonzero(frame.segmentation == frame.labels.index("ball"))
    h, w = frame.segmentation.shape
    assert abs(xs.mean() / w - 0.5) < 0.3 and abs(ys.mean() / h - 0.5) < 0.3


def test_nothing_buildable_is_a_clear_error_with_an_example():
    with pytest.raises(NothingToBuild, match="dog.*not in the catalogue.*rain can only be shown by the renderer.*e.g."):
        new_world("a dog in the rain")


def test_new_writes_a_scene_that_check_accepts_and_play_plays(tmp_path):
    out = tmp_path / "w.yaml"
    made = run_cli("new", "a rubber ball drops onto a wooden crate, in a garden", "--out", str(out))
    assert made.returncode == 0, made.stderr
    said = made.stdout + made.stderr
    assert "built ball, crate on grass" in said and "held 40 cm up and let go" in said
    assert "template: crate" in out.read_text()
    checked = run_cli("check", str(out))
    assert checked.returncode == 0 and "ok" in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    states = tmp_path / "s.jsonl"
    played = run_cli("play", str(out), "--out", str(tmp_path / "w.mp4"), "--state-out", str(states),
                     "--preset", "fast", "--planner", "scripted", "--size", "160x120")
    assert played.returncode == 0, played.stderr
    lines = [json.loads(x) for x in states.read_text().splitlines()]
    frames = [x for x in lines if "entities" in x]
    z0, z1 = frames[0]["entities"]["ball"]["position"][2], frames[-1]["entities"]["ball"]["position"][2]
    crate_top = load_scene(out).entities[1].position[2] + 0.35 / 2
    assert z0 > crate_top and z1 < z0 - 0.2  # held up above the crate, then fell


def test_new_says_what_went_to_the_renderer_and_refuses_nothing_buildable(tmp_path):
    made = run_cli("new", "a candle on a table", "--out", str(tmp_path / "c.yaml"))
    assert made.returncode == 0 and "renderer only (not simulated): candle" in made.stdout + made.stderr
    bad = run_cli("new", "a unicorn", "--out", str(tmp_path / "u.yaml"))
    said = bad.stdout + bad.stderr
    assert bad.returncode == 2 and "unicorn" in said and "callosum new" in said
    assert not (tmp_path / "u.yaml").exists()


class _Reply:
    """A stand-in for a model server: returns a fixed reply (tests the checks around the model)."""

    def __init__(self, text):
        self.text = text

    def complete(self, request):
        assert request.schema["properties"]["things"]["items"]["properties"]["template"]["enum"]
        return Completion(text=self.text)


def test_the_model_writes_the_intent_under_catalogue_enums_and_bad_parts_are_dropped():
    schema = intent_schema()
    assert "bowl" in schema["properties"]["things"]["items"]["properties"]["template"]["enum"]
    reply = {"things": [{"ref": "b", "template": "ball", "count": 2, "material": None, "color": "red", "scale": 1.0},
                        {"ref": "t", "template": "table", "count": 1, "material": "wood", "color": None, "scale": 1.0}],
             "relations": [{"kind": "on", "subject": "b", "object": "t"},
                           {"kind": "on", "subject": "b", "object": "ghost"}],
             "ground": "grass", "lighting": "night", "action": None, "renderer_only": []}
    intent = read_with_model("two red balls on a table in fog", _Reply(json.dumps(reply)))
    assert [(t.ref, t.count) for t in intent.things] == [("b", 2), ("t", 1)]
    assert _rel(intent) == {("on", "b", "t")} and "ghost" in intent.assumptions[0]
    assert intent.renderer_only == ["fog"]
    fallback = read_with_model("a ball on a table", _Reply("not json"))
    assert [t.template for t in fallback.things] == ["ball", "table"] and "grammar" in fallback.assumptions[-1]


def test_night_is_darker_than_day_and_the_scene_says_so():
    from renderer.geometry import GeometryRenderer

    def brightness(prompt):
        built = new_world(prompt)
        with GeometryRenderer(built.scene, preset="fast") as r:
            return built, float(r.render(World(built.scene)).rgb.mean())

    night, dark = brightness("a red ball on a table at night")
    day, light = brightness("a red ball on a table")
    assert night.scene.lighting == "night" and day.scene.lighting == "day"
    assert dark < 0.6 * light and "Lighting: night" in night.scene.description


def test_things_too_wide_for_one_row_on_a_table_wrap_into_rows_and_stay_on_it():
    """Two crates and a ball are wider than the table top in one row: they go in two rows, all on it."""
    built = new_world("a red ball and two wooden crates on a table, a lemon next to the ball")
    assert built.settled == [] and not any("wider" in a for a in built.assumptions), built.assumptions
    world = World(built.scene)
    world.advance(1.0, 10)
    s = world.state()
    top = entity_box(s.entities["table"]).hi[2]
    for eid in ("ball", "crate-1", "crate-2", "lemon"):
        assert abs(entity_box(s.entities[eid]).lo[2] - top) < 0.02, (eid, s.entities[eid].position)
    assert entity_box(s.entities["lemon"]).gap(entity_box(s.entities["ball"])) < 0.15
