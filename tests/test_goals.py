"""Goal predicates judged on real MuJoCo rollouts (imagined from the shipped scenes)."""

import pytest
from pydantic import TypeAdapter, ValidationError

from simulator import World, load_scene
from simulator.goals import (
    Airborne, AtRest, EndsIn, EndsNear, EndsOff, EndsOn, Goal, Moves, Reaches, Topples, Unchanged, check,
)
from simulator.imagine import Imaginer
from simulator.scene import ApplyImpulseEvent, SetPropertyEvent
from tests.conftest import SCENES

BLOCKS = [f"block-{i}" for i in range(1, 9)]


def _kick(entity, impulse):
    return ApplyImpulseEvent(type="apply_impulse", entity=entity, impulse=impulse)


@pytest.fixture(scope="module")
def tower():
    scene = load_scene(SCENES / "tower-knockover.yaml")
    return Imaginer(scene), World(scene).snapshot(), scene


@pytest.fixture(scope="module")
def table():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    return Imaginer(scene), World(scene).snapshot()


def test_a_thrown_ball_topples_the_stack_and_nothing_topples_unprovoked(tower):
    imaginer, snap, scene = tower
    thrown = imaginer.run(snap, scene.steps[1].events, 2.5).states
    top = check(Topples(targets=BLOCKS[4:]), thrown)
    assert top.ok and top.margin > 0.1, top
    assert check(Reaches(target="ball", other="block-5"), thrown).ok
    assert not check(Unchanged(targets=["block-8"]), thrown).ok
    still = imaginer.run(snap, [], 2.5).states
    verdict = check(Topples(targets=BLOCKS[4:]), still)
    assert (verdict.ok, verdict.code) == (False, "still_standing") and verdict.margin < -0.05
    assert check(Unchanged(targets=BLOCKS), still).ok
    assert check(AtRest(targets=BLOCKS), still).ok
    assert check(Topples(targets=BLOCKS, at_least=3), thrown).ok


def test_a_released_box_lands_on_the_table_and_rests():
    scene = load_scene(SCENES / "box-drop.yaml")
    states = Imaginer(scene).run(World(scene).snapshot(), scene.steps[1].events, 1.5).states
    assert check(EndsOn(target="box", support="table"), states).ok
    assert check(AtRest(targets=["box"]), states).ok
    assert check(Moves(targets=["box"], direction=(0, 0, -1), min_distance=0.3), states).ok
    on_floor = check(EndsOn(target="box", support="ground"), states)
    assert (on_floor.ok, on_floor.code) == (False, "not_on") and on_floor.margin < -0.5
    assert check(EndsOn(target="mug", support="table"), states).ok  # untouched mug still stands there
    falling = check(AtRest(targets=["box"]), states[:3])  # still falling at 1/6 s
    assert (falling.ok, falling.code) == (False, "moving")


def test_a_ball_flicked_off_the_back_edge_ends_off_that_side(table):
    imaginer, snap = table
    states = imaginer.run(snap, [_kick("ball", (0.3, 0, 0))], 2.0).states
    assert check(EndsOff(target="ball", support="table", side=(1, 0, 0)), states).ok
    assert check(EndsOff(target="ball", support="table"), states).ok
    wrong = check(EndsOff(target="ball", support="table", side=(-1, 0, 0)), states)
    assert not wrong.ok and wrong.code == "not_off"
    assert check(EndsOn(target="ball", support="ground"), states).ok
    assert not check(EndsOn(target="ball", support="table"), states).ok
    assert check(Reaches(target="ball", other="ground"), states).ok  # it hits the floor
    assert check(EndsNear(target="ball", other="ground", max_gap=0.01), states).ok
    assert not check(Reaches(target="ball", other="ground"), states[:3]).ok  # not yet


def test_margins_grow_with_the_push_so_bisection_can_use_them(table):
    imaginer, snap = table
    goal = Moves(targets=["ball"], direction=(1, 0, 0), min_distance=0.2)
    off = EndsOff(target="ball", support="table", side=(1, 0, 0))
    margins, offs = [], []
    for j in (0.01, 0.02, 0.04, 0.08, 0.16):
        states = imaginer.run(snap, [_kick("ball", (j, 0, 0))], 1.0).states
        margins.append(check(goal, states).margin)
        offs.append(check(off, states).margin)
    assert margins == sorted(margins) and margins[0] < 0 < margins[-1], margins
    assert offs == sorted(offs), offs
    sideways = imaginer.run(snap, [_kick("ball", (0, 0.08, 0))], 1.0).states
    verdict = check(goal, sideways)
    assert not verdict.ok and verdict.code in ("too_short", "off_direction")
    capped = check(Moves(targets=["ball"], direction=(1, 0, 0), max_distance=0.05),
                   imaginer.run(snap, [_kick("ball", (0.08, 0, 0))], 1.0).states)
    assert (capped.ok, capped.code) == (False, "too_far")


def test_near_in_airborne_and_missing_bodies(table, tower):
    imaginer, snap = table
    up = imaginer.run(snap, [_kick("ball", (0, 0, 0.6))], 1.0).states  # 3 m/s up: about 0.45 m
    high = check(Airborne(target="ball", min_height=0.3), up)
    assert high.ok and 0.05 < high.margin < 0.25, high
    assert not check(Airborne(target="ball", min_height=0.3), imaginer.run(snap, [], 1.0).states).ok
    still = imaginer.run(snap, [], 0.5).states
    assert check(EndsNear(target="ball", other="table", max_gap=0.01), still).ok
    assert not check(EndsNear(target="ball", other="table-leg-1", max_gap=0.1), still).ok
    assert check(EndsIn(target="ball", container="table"), still).ok is False  # the ball is above it, not in it
    gone = check(Moves(targets=["nobody"]), still)
    assert (gone.ok, gone.code) == (False, "missing") and gone.margin < 0


def test_goals_are_typed_data_with_clear_errors():
    adapter = TypeAdapter(Goal)
    goal = adapter.validate_python({"kind": "moves", "targets": ["ball"], "direction": [0, 2, 0]})
    assert isinstance(goal, Moves) and goal.direction == (0.0, 1.0, 0.0)
    assert adapter.validate_json(goal.model_dump_json()) == goal
    with pytest.raises(ValidationError, match="non-zero"):
        Moves(targets=["ball"], direction=(0, 0, 0))
    with pytest.raises(ValidationError, match="sideways"):
        EndsOff(target="ball", support="table", side=(0, 0, 1))
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "levitates", "target": "ball"})
    with pytest.raises(ValidationError):
        Topples(targets=[])
