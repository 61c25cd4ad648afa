"""The place event: a lift-carry-lower motion that ends at rest where asked, checked like every event."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

from simulator import EventError, SceneError, World, parse_scene
from simulator.goals import AtRest, EndsOn, Unchanged, check
from simulator.imagine import Imaginer
from simulator.scene import PlaceEvent

TABLE = """
name: blocks
entities:
  - {id: table, shape: box, size: [1.2, 0.8, 0.05], position: [0, 0, 0.75], fixed: true}
  - {id: red, shape: box, size: [0.1, 0.1, 0.1], position: [-0.3, 0, 0.825], orientation: [0, 0, 30], material: wood}
  - {id: blue, shape: box, size: [0.12, 0.12, 0.12], position: [0.3, 0.1, 0.835], material: wood}
  - {id: ball, shape: sphere, size: [0.04], position: [0, -0.25, 0.815], material: rubber}
"""


def _place(entity, position, **kw):
    return PlaceEvent(type="place", entity=entity, position=position, **kw)


def test_a_block_placed_on_another_moves_along_the_path_and_rests_there():
    world = World(parse_scene(TABLE))
    on_top = (0.3, 0.1, 0.775 + 0.12 + 0.05)
    world.apply([_place("red", on_top, duration=1.0, lift=0.1)])
    states = [world.state()]
    for _ in world.run(2.0, 24):
        states.append(world.state())
    path = [s.entities["red"].position for s in states[:25]]
    steps = [math.dist(a, b) for a, b in zip(path, path[1:])]
    assert max(steps) < 0.08  # no teleport: at most a few cm per frame (about 0.7 m in 1 s)
    assert max(p[2] for p in path) > 0.95  # lifted above the blue block's top (0.895) on the way
    assert 0.0 < path[8][0] < 0.3 or -0.3 < path[12][0] < 0.3  # crossing between the blocks mid-way
    end = states[-1].entities["red"]
    assert end.position == pytest.approx(on_top, abs=0.01)
    assert check(EndsOn(target="red", support="blue"), states).ok
    assert check(AtRest(targets=["red"]), states).ok
    assert check(Unchanged(targets=["blue", "ball"], tolerance=0.01), states).ok
    w, x, y, z = end.orientation  # set down upright, heading (30 degrees about z) kept
    assert abs(x) < 1e-3 and abs(y) < 1e-3 and math.degrees(2 * math.atan2(z, w)) == pytest.approx(30, abs=1)


def test_resting_position_puts_the_bottom_on_the_surface():
    from simulator.bounds import euler_quat
    from simulator.place import resting_position

    assert resting_position("box", (0.1, 0.1, 0.2), euler_quat((90, 0, 0)), 0.3, 0.1, 0.775) == \
        pytest.approx((0.3, 0.1, 0.875))  # set down upright: half its 0.2 m height above the top
    assert resting_position("sphere", (0.04,), (1, 0, 0, 0), 0, 0, 0.0)[2] == pytest.approx(0.04)
    assert resting_position("capsule", (0.02, 0.1), (1, 0, 0, 0), 0, 0, 1.0)[2] == pytest.approx(1.07)


def test_placement_is_deterministic_and_survives_a_snapshot_mid_carry():
    scene = parse_scene(TABLE)
    first = World(scene)
    first.apply([_place("ball", (0.0, 0.25, 0.815), duration=1.0)])
    first.advance(0.4, 24)
    snap = first.snapshot()
    first.advance(1.0, 24)
    second = World(scene)
    second.restore(snap)
    second.advance(1.0, 24)
    assert first.snapshot() == second.snapshot()
    ball = first.state().entities["ball"]
    assert ball.position[1] == pytest.approx(0.25, abs=0.01) and np.linalg.norm(ball.velocity) < 0.05
    again = Imaginer(scene).run(World(scene).snapshot(), [_place("ball", (0.0, 0.25, 0.815), duration=1.0)], 1.4, 24)
    assert again.final.entities["ball"].position == first.state().entities["ball"].position


def test_place_is_checked_like_every_event():
    world = World(parse_scene(TABLE))
    with pytest.raises(EventError, match="place on fixed entity 'table'"):
        world.apply([_place("table", (0, 0, 2))])
    with pytest.raises(EventError, match="unknown entity 'green'"):
        world.apply([_place("green", (0, 0, 1))])
    with pytest.raises(EventError, match="inside 'table' by .*e.g. at z = 0.825"):
        world.apply([_place("red", (0.0, 0.0, 0.75))])
    into_blue = _place("red", (0.3, 0.1, 0.85))
    assert world.check([into_blue]) == []  # free bodies move: only the live world can tell
    assert "inside 'blue' by" in world.placement_problem(into_blue)
    assert "e.g. at z = 0.945" in world.placement_problem(into_blue)
    assert world.placement_problem(_place("red", (0.3, 0.1, 0.945))) is None
    assert "fixed entity 'table'" in world.placement_problem(_place("table", (0, 0, 2)))
    with pytest.raises(EventError, match="below the floor"):
        world.apply([_place("red", (2.0, 0, 0.01))])
    with pytest.raises(ValidationError, match="outside the world"):
        _place("red", (500, 0, 1))
    with pytest.raises(ValidationError):
        _place("red", (0, 0, 1), duration=0)
    with pytest.raises(SceneError, match=r"steps\[0\].events\[0\].*inside 'table'"):
        parse_scene(TABLE + "steps:\n  - events: [{type: place, entity: red, position: [0.3, 0.1, 0.76]}]\n")
    ok = parse_scene(TABLE + "steps:\n  - events: [{type: place, entity: red, position: [0.3, 0.1, 0.945]}]\n")
    assert ok.steps[0].events[0].lift == 0.1


EPISODE = """
import hashlib
from simulator import World, parse_scene
from simulator.scene import ApplyImpulseEvent, PlaceEvent, SetPropertyEvent
from tests.test_place import TABLE
w = World(parse_scene(TABLE))
w.apply([SetPropertyEvent(type="set_property", entity="ground", material="ice"),
         PlaceEvent(type="place", entity="red", position=(0.3, 0.1, 0.945)),
         ApplyImpulseEvent(type="apply_impulse", entity="ball", impulse=(0, 0.02, 0.01))])
w.advance(1.5, 24)
w.apply([SetPropertyEvent(type="set_property", entity="ball", material="steel", bounciness=0.9)])
w.advance(1.0, 24)
print(hashlib.sha256(w.snapshot()).hexdigest())
"""


def test_an_episode_with_placement_materials_and_an_icy_floor_is_bit_identical_across_processes():
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    runs = [subprocess.run([sys.executable, "-c", EPISODE], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120, check=True).stdout.strip() for _ in range(2)]
    assert len(runs[0]) == 64 and runs[0] == runs[1]
