"""Shipped scenes play exactly as authored: no step reaches the planner, so `make demo` is what its
file says, whatever model is installed (issue 10, item 6)."""

import re
from pathlib import Path

import numpy as np
import pytest

from agent.turns.playback import play
from simulator import load_scene
from simulator.world import World
from tests.conftest import ROOT, SCENES

SHIPPED = sorted(SCENES.glob("*.yaml"))


class NoPlanning:
    """A planner that fails the test if anything asks it for a plan."""

    def __init__(self):
        self.calls = []

    def plan_turn(self, *args, **kwargs):
        self.calls.append(args[1] if len(args) > 1 else kwargs.get("action"))
        raise AssertionError(f"a shipped scene step reached the planner: {self.calls[-1]!r}")


def demo_scene() -> Path:
    makefile = (ROOT / "Makefile").read_text()
    return ROOT / re.search(r"^SCENE\s*\?=\s*(\S+)", makefile, re.M).group(1)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_step_of_a_shipped_scene_is_pinned(path):
    scene = load_scene(path)
    for i, step in enumerate(scene.steps):
        assert step.events is not None or not step.action, (
            f"{path.name} steps[{i}] ({step.action!r}) has no events; a step that should do nothing says events: []")


def test_make_demo_plays_as_authored_without_a_planner_call(tmp_path):
    scene = load_scene(demo_scene())
    planner = NoPlanning()
    result = play(scene, frames_dir=tmp_path / "f", preset="fast", planner=planner)
    assert planner.calls == []
    # The same steps applied straight to a world, with no engine and no planner, end in the same state.
    world = World(scene)
    for step in scene.steps:
        world.apply(step.events or [])
        world.advance(step.duration, scene.render.fps)
    direct = world.state()
    assert set(result.final_state.entities) == set(direct.entities)
    for eid, e in direct.entities.items():
        assert np.allclose(result.final_state.entities[eid].position, e.position, atol=1e-9), eid
    assert result.frames == sum(round(s.duration * scene.render.fps) for s in scene.steps)
    assert result.turns[0].plan.events == []  # the first step says events: [] and plans nothing


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_shipped_scene_calls_the_planner(path, tmp_path):
    planner = NoPlanning()
    play(load_scene(path), preset="fast", planner=planner)
    assert planner.calls == []
