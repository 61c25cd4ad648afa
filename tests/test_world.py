"""The MuJoCo world: physical outcomes, events, determinism and snapshots."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from simulator import EventError, SnapshotError, World, load_scene, parse_scene
from simulator.scene import (
    ApplyForceEvent, ApplyImpulseEvent, EntitySpec, RemoveEvent, SetPropertyEvent, SetVelocityEvent, SpawnEvent,
)
from tests.conftest import ROOT, SCENES

FLAT = """
name: flat
entities:
  - {id: ball, shape: sphere, size: [0.1], position: [0, 0, 0.1], mass: 2.0}
  - {id: crate, shape: box, size: [0.2, 0.2, 0.2], position: [1, 0, 0.1], mass: 1.0}
"""


def play_all(world: World) -> None:
    for i, step in enumerate(world.scene.steps):
        world.apply(step.events or [], step=i)
        world.advance(step.duration, world.scene.render.fps)


def test_ball_ends_on_the_floor_beyond_the_table_edge():
    world = World(load_scene(SCENES / "ball-off-table.yaml"))
    play_all(world)
    ball = world.state().entities["ball"]
    table_edge = 0.6
    assert ball.position[0] > table_edge + 0.1
    assert ball.position[2] == pytest.approx(0.06, abs=2e-3)  # resting on z = 0


def test_released_box_rests_on_the_table_top():
    scene = load_scene(SCENES / "box-drop.yaml")
    world = World(scene)
    assert world.state().entities["box"].fixed  # held above the table from the first frame
    for i, step in enumerate(scene.steps[:2]):
        world.apply(step.events or [])
        world.advance(step.duration, 24)
    box = world.state().entities["box"]
    table_top = 0.775
    assert box.position[2] == pytest.approx(table_top + 0.1, abs=3e-3)
    assert np.linalg.norm(box.velocity) < 0.01


def test_released_apple_falls_onto_the_table():
    world = World(load_scene(SCENES / "apple-from-branch.yaml"))
    play_all(world)
    apple = world.state().entities["apple"]
    assert not apple.fixed
    assert apple.position[2] == pytest.approx(0.775 + 0.045, abs=3e-3)


def test_impulse_changes_velocity_by_j_over_m():
    world = World(parse_scene(FLAT))
    world.apply([ApplyImpulseEvent(type="apply_impulse", entity="ball", impulse=(1.0, 0.5, 0.0))])
    assert world.state().entities["ball"].velocity[:2] == pytest.approx((0.5, 0.25))


def test_force_for_a_duration_gives_the_analytic_rolling_speed():
    # A solid sphere rolling without slipping: a = F / (m + I/r^2) = F / (7/5 m); rolling resistance
    # (simulator/materials.py) takes a little off while the force acts and slows it afterwards.
    world = World(parse_scene(FLAT))
    world.apply([ApplyForceEvent(type="apply_force", entity="ball", force=(3.0, 0, 0), duration=0.1)])
    world.advance(0.1, 50)
    analytic = 3.0 * 0.1 / (1.4 * 2.0)
    at_release = world.state().entities["ball"].velocity[0]
    assert 0.85 * analytic < at_release < analytic
    world.advance(0.4, 50)
    assert 0 < world.state().entities["ball"].velocity[0] < at_release


def test_set_velocity_and_properties():
    world = World(parse_scene(FLAT))
    world.apply([
        SetVelocityEvent(type="set_velocity", entity="crate", velocity=(0, 0, 2.0)),
        SetPropertyEvent(type="set_property", entity="crate", color="#00ff00", mass=3.0, friction=0.2,
                         description="a green crate"),
    ])
    crate = world.state().entities["crate"]
    assert crate.velocity == pytest.approx((0, 0, 2.0))
    assert (crate.color, crate.mass, crate.description) == ("#00ff00", 3.0, "a green crate")
    assert world.model.geom_friction[world.model.geom("crate").id][0] == 0.2


def test_fixing_holds_a_body_and_releasing_lets_it_fall():
    world = World(parse_scene(FLAT))
    world.apply([SetVelocityEvent(type="set_velocity", entity="crate", velocity=(0, 0, 3.0))])
    world.advance(0.2, 25)
    z = world.state().entities["crate"].position[2]
    world.apply([SetPropertyEvent(type="set_property", entity="crate", fixed=True)])
    world.advance(0.5, 24)
    held = world.state().entities["crate"]
    assert held.fixed and held.position[2] == pytest.approx(z, abs=1e-9)
    world.apply([SetPropertyEvent(type="set_property", entity="crate", fixed=False)])
    world.advance(1.0, 24)
    assert world.state().entities["crate"].position[2] == pytest.approx(0.1, abs=3e-3)


def test_spawn_and_remove_keep_other_bodies_exact():
    world = World(parse_scene(FLAT))
    world.apply([SetVelocityEvent(type="set_velocity", entity="ball", velocity=(1.0, 0, 0))])
    world.advance(0.3, 24)
    before = world.data.qpos[:7].copy(), world.data.qvel[:6].copy(), world.data.time
    spawn = SpawnEvent(type="spawn", entity=EntitySpec(id="cube", shape="box", size=(0.1, 0.1, 0.1), position=(3, 3, 0.5)))
    world.apply([spawn])
    assert np.array_equal(world.data.qpos[:7], before[0]) and np.array_equal(world.data.qvel[:6], before[1])
    assert world.data.time == before[2] and "cube" in world.state().entities
    world.apply([RemoveEvent(type="remove", entity="crate")])
    assert np.array_equal(world.data.qpos[:7], before[0])
    assert list(world.state().entities) == ["ball", "cube"]


def test_bad_events_apply_all_or_nothing():
    world = World(parse_scene(FLAT))
    snap = world.snapshot()
    events = [ApplyImpulseEvent(type="apply_impulse", entity="ball", impulse=(1, 0, 0)),
              RemoveEvent(type="remove", entity="ghost")]
    with pytest.raises(EventError, match=r"events\[1\]: unknown entity 'ghost'"):
        world.apply(events)
    assert world.snapshot() == snap


def _episode_hash(path) -> str:
    world = World(load_scene(path))
    play_all(world)
    return hashlib.sha256(world.snapshot()).hexdigest()


def test_deterministic_in_one_process_and_across_processes():
    path = SCENES / "tower-knockover.yaml"
    here = _episode_hash(path)
    assert here == _episode_hash(path)
    code = f"from tests.test_world import _episode_hash; print(_episode_hash({str(path)!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == here


@pytest.mark.parametrize("scene", ["tower-knockover", "domino-chain", "box-drop"])
def test_snapshot_restore_round_trip_continues_identically(scene):
    loaded = load_scene(SCENES / f"{scene}.yaml")
    world = World(loaded)
    first = loaded.steps[:-1]
    for step in first:
        world.apply(step.events or [])
        world.advance(step.duration, 24)
    world.apply(loaded.steps[-1].events or [])  # spawns / releases / kicks are in the snapshot
    world.advance(0.1, 24)
    snap = world.snapshot()
    other = World(loaded)
    other.restore(snap)
    assert other.snapshot() == snap
    assert other.state() == world.state()
    world.advance(0.5, 24)
    other.advance(0.5, 24)
    assert other.snapshot() == world.snapshot()


def test_restore_rejects_foreign_and_damaged_snapshots():
    world = World(parse_scene(FLAT))
    other = World(load_scene(SCENES / "bowling.yaml"))
    with pytest.raises(SnapshotError, match="scene 'bowling'"):
        world.restore(other.snapshot())
    with pytest.raises(SnapshotError, match="magic"):
        world.restore(b"nonsense")
    with pytest.raises(SnapshotError, match="truncated"):
        world.restore(world.snapshot()[:-8])
