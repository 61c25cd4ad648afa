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


def test_a_step_without_duration_runs_until_rest_and_at_least_the_minimum():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    world = World(scene)
    world.apply([SetPropertyEvent(type="set_property", entity="ball", color="#ff0000")])  # nothing moves
    assert len(list(world.run_step(None, 24))) == round(LIMITS.min_rest_seconds * 24)
    assert len(list(world.run_step(0.25, 24))) == 6  # a duration given is played as given


def test_a_turn_without_duration_ends_at_rest_and_replays_the_same(tmp_path):
    from agent.turns.episode import Episode
    from agent.turns.store import BlobStore
    from agent.turns.turn import TurnRequest

    scene = load_scene(SCENES / "box-drop.yaml")
    release = [SetPropertyEvent(type="set_property", entity="box", fixed=False)]
    with Episode(scene, BlobStore(tmp_path / "store"), preset="fast") as episode:
        episode.start()
        record = episode.turn(TurnRequest(action="the box is let go", events=release))
        box = episode.ctx.world.state().entities["box"]
    fps = scene.render.fps
    assert record.until_rest and record.frames == round(record.duration * fps)
    assert LIMITS.min_rest_seconds <= record.duration < LIMITS.max_rest_seconds
    assert np.linalg.norm(box.velocity) < LIMITS.rest_speed and box.position[2] < 0.9  # landed, not mid-fall
    assert record.request.duration is None  # a replay runs until rest again: the same frames
    with Episode(scene, BlobStore(tmp_path / "again"), preset="fast") as episode:
        episode.start()
        again = episode.turn(record.request)
    assert again.frames == record.frames and again.snapshot_sha == record.snapshot_sha


def test_a_scene_step_without_duration_checks_with_the_rest_limit():
    text = ("name: drop\nentities:\n  - {id: ball, shape: sphere, size: [0.05], position: [0, 0, 1]}\n"
            "steps:\n" + "".join("  - {events: []}\n" for _ in range(3)))
    scene = parse_scene(text)
    assert [s.duration for s in scene.steps] == [None, None, None]
    assert [s.longest for s in scene.steps] == [LIMITS.max_rest_seconds] * 3
