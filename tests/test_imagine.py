"""Imagination: rollouts from a snapshot on a scratch world; the live world is never touched."""

import hashlib

import pytest

from simulator import EventError, World, load_scene
from simulator.imagine import Imaginer, imagine
from simulator.scene import ApplyImpulseEvent, EntitySpec, SpawnEvent
from tests.conftest import SCENES


def _kick(entity: str, x: float) -> ApplyImpulseEvent:
    return ApplyImpulseEvent(type="apply_impulse", entity=entity, impulse=(x, 0.0, 0.0))


@pytest.fixture(scope="module")
def tower():
    return load_scene(SCENES / "tower-knockover.yaml")


def test_imagining_leaves_the_live_world_bit_identical(tower):
    live = World(tower)
    live.advance(0.2, 24)
    before = live.snapshot()
    digest = hashlib.sha256(before).hexdigest()
    state_before = live.state().model_dump_json()
    imaginer = Imaginer(tower)
    spawn = SpawnEvent(type="spawn", entity=EntitySpec(id="ball", shape="sphere", size=(0.09,),
                                                       position=(-0.5, 0, 0.6), velocity=(5, 0, 0), mass=1.2))
    out = imaginer.run(before, [spawn], 1.0, fps=12)
    assert "ball" in out.final.entities
    assert hashlib.sha256(live.snapshot()).hexdigest() == digest
    assert live.state().model_dump_json() == state_before
    live.advance(0.5, 24)  # and the live world goes on as if nothing was imagined
    twin = World(tower)
    twin.advance(0.2, 24)
    twin.advance(0.5, 24)
    assert live.snapshot() == twin.snapshot()


def test_rollout_exports_states_at_the_requested_fps(tower):
    snap = World(tower).snapshot()
    out = imagine(tower, snap, [_kick("block-5", 1.0)], 2.0, fps=12)
    assert len(out.states) == 1 + 24
    assert out.seconds == pytest.approx(2.0)
    assert out.diverged is None
    times = [s.time for s in out.states]
    assert times[0] == 0.0 and times[1] == pytest.approx(1 / 12, abs=0.002)  # whole 2 ms steps
    assert out.states[0].entities["block-5"].velocity[0] == pytest.approx(2.5)  # 1 N*s on 0.4 kg
    # the kicked block leaves the tower: the outcome is physical, not echoed
    assert out.final.entities["block-5"].position[0] > 0.2


def test_a_reused_imaginer_gives_the_same_bits_as_a_fresh_one(tower):
    live = World(tower)
    live.advance(0.3, 24)
    snap = live.snapshot()
    imaginer = Imaginer(tower)
    runs = []
    for x in (0.2, 1.0, 0.2):  # a stronger kick in between must not leak into the third rollout
        runs.append(imaginer.run(snap, [_kick("block-8", x)], 1.0))
    assert runs[0] == runs[2]
    assert runs[0] != runs[1]
    assert runs[0] == imagine(tower, snap, [_kick("block-8", 0.2)], 1.0)
    spawned = imaginer.run(snap, [SpawnEvent(type="spawn", entity=EntitySpec(
        id="pebble", shape="sphere", size=(0.02,), position=(1, 1, 0.5)))], 0.5)
    assert "pebble" in spawned.final.entities
    again = imaginer.run(snap, [_kick("block-8", 0.2)], 1.0)  # the spawn is gone again
    assert again == runs[0] and "pebble" not in again.final.entities


def test_the_rollout_matches_playing_the_events_live(tower):
    live = World(tower)
    snap = live.snapshot()
    out = Imaginer(tower).run(snap, [_kick("block-3", 0.8)], 1.0, fps=24)
    live.apply([_kick("block-3", 0.8)])
    states = [live.state()]
    for _ in live.run(1.0, 24):
        states.append(live.state())
    assert out.states == states


def test_refused_events_and_bad_arguments_raise_clearly(tower):
    snap = World(tower).snapshot()
    imaginer = Imaginer(tower)
    with pytest.raises(EventError, match="unknown entity 'nobody'"):
        imaginer.run(snap, [_kick("nobody", 1.0)], 1.0)
    with pytest.raises(ValueError, match="seconds"):
        imaginer.run(snap, [], 0.0)
    with pytest.raises(ValueError, match="fps"):
        imaginer.run(snap, [], 1.0, fps=0)


def test_a_diverging_rollout_reports_why_and_keeps_only_finite_states():
    from simulator import parse_scene

    scene = parse_scene("""
name: runaway
entities:
  - {id: puck, shape: sphere, size: [0.05], position: [99.5, 0, 0.05], velocity: [20, 0, 0]}
""")
    out = imagine(scene, World(scene).snapshot(), [], 1.0, fps=12)
    assert out.diverged and "left the world" in out.diverged
    assert 1 <= len(out.states) < 13
    assert all(abs(s.entities["puck"].position[0]) <= 100 for s in out.states)
