"""Running until rest: a turn without a duration plays until its bodies settle (up to the limit)."""

import numpy as np

from simulator import LIMITS, World, load_scene, parse_scene
from simulator.imagine import Imaginer
from simulator.scene import ApplyImpulseEvent, SetPropertyEvent
from tests.conftest import SCENES


def test_a_released_box_runs_until_it_rests_on_the_table():
    scene = load_scene(SCENES / "box-drop.yaml")
    world = World(scene)
    assert world.at_rest()  # everything still; the held box is fixed
    world.apply([SetPropertyEvent(type="set_property", entity="box", fixed=False)])
    assert world.at_rest()  # released, not yet moving: but the check runs after each frame
    frames = list(world.run_until_rest(LIMITS.max_rest_seconds, 24))
    box = world.state().entities["box"]
    assert 0.3 < len(frames) / 24 < 2.0  # falls ~0.33 m and settles: well under the limit
    assert box.position[2] < 0.9 and np.linalg.norm(box.velocity) < LIMITS.rest_speed


def test_a_rolled_ball_is_followed_until_it_stops():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    world = World(scene)
    world.apply([ApplyImpulseEvent(type="apply_impulse", entity="ball", impulse=(0.1, 0, 0))])  # 0.5 m/s
    frames = list(world.run_until_rest(LIMITS.max_rest_seconds, 24))
    ball = world.state().entities["ball"]
    assert len(frames) < LIMITS.max_rest_seconds * 24
    assert -0.35 < ball.position[0] < 0.6 and ball.position[2] > 0.8  # stopped on the table
    assert world.at_rest(["ball"])


def test_a_body_that_never_rests_stops_at_the_limit():
    scene = parse_scene("name: space\nphysics: {gravity: [0, 0, 0]}\nentities:\n"
                        "  - {id: probe, shape: sphere, size: [0.1], position: [0, 0, 5], velocity: [0.5, 0, 0]}\n")
    world = World(scene)
    assert len(list(world.run_until_rest(2.0, 12))) == 24
    assert len(list(world.run_until_rest(1e6, 1))) == LIMITS.max_rest_seconds


def test_imagining_until_rest_matches_the_live_run():
    scene = load_scene(SCENES / "box-drop.yaml")
    release = [SetPropertyEvent(type="set_property", entity="box", fixed=False)]
    live = World(scene)
    snap = live.snapshot()
    live.apply(release)
    n = len(list(live.run_until_rest(5.0, 12)))
    out = Imaginer(scene).run(snap, release, 5.0, 12, until_rest=True)
    assert len(out.states) == n + 1 and out.final == live.state()
