"""Scene files: the documented format is accepted as written; bad files get one clear message."""

import pytest

from simulator.loader import SceneError, load_scene, parse_scene
from tests.conftest import SCENES, run_cli

ISSUE_EXAMPLE = """
name: ball-off-table                # required slug
description: A red ball rolls off the edge of a table.
seed: 0
physics: {timestep: 0.002, gravity: [0, 0, -9.81]}
camera: {position: [2.0, -2.0, 1.5], look_at: [0, 0, 0.5], fov: 45}
render: {width: 256, height: 256, fps: 24}
entities:
  - id: table                       # unique, [a-z0-9_-]+
    shape: box                      # box | sphere | cylinder | capsule
    size: [1.2, 0.8, 0.05]          # box: full extents (m); sphere: [radius]; cylinder/capsule: [radius, length]
    position: [0, 0, 0.75]
    orientation: [0, 0, 0]          # euler xyz, degrees (optional)
    velocity: [0, 0, 0]             # m/s (optional)
    mass: 1.0                       # kg (optional; default from density)
    fixed: true                     # static body (default false)
    color: "#8b5a2b"
    friction: 0.8                   # optional
    description: a worn oak kitchen table
  - id: ball
    shape: sphere
    size: [0.05]
    position: [0, 0, 0.83]
    color: "#ff0000"
steps:
  - action: Someone flicks the ball toward the edge.   # free text, for the planner
    duration: 1.5                   # seconds simulated and rendered after the events (default 1.0)
    events:                         # optional pinned events: played as written, no planner
      - {type: apply_impulse, entity: ball, impulse: [0.3, 0, 0]}
"""


def test_documented_format_is_accepted_as_written():
    scene = parse_scene(ISSUE_EXAMPLE)
    assert scene.name == "ball-off-table"
    assert scene.entities[0].fixed and scene.entities[0].size == (1.2, 0.8, 0.05)
    assert scene.steps[0].duration == 1.5
    assert scene.steps[0].events[0].impulse == (0.3, 0.0, 0.0)


def test_every_shipped_scene_loads():
    paths = sorted(SCENES.glob("*.yaml"))
    assert len(paths) >= 6
    for path in paths:
        scene = load_scene(path)
        assert scene.steps, path


def _bad(replace: str, by: str) -> str:
    assert replace in ISSUE_EXAMPLE
    return ISSUE_EXAMPLE.replace(replace, by, 1)


@pytest.mark.parametrize(
    "text, expected",
    [
        (_bad("shape: box", "shape: cube"), ["entities[0].shape", "'cube'", "'box'", "'capsule'"]),
        (_bad("id: ball", "id: table"), ["duplicate entity id 'table'"]),
        (_bad("mass: 1.0", "mass: -2"), ["entities[0].mass", "greater than or equal to 0.0001", "-2"]),
        (_bad("entity: ball", "entity: bal"), ["steps[0].events[0]", "unknown entity 'bal'", "known entities: ball, table"]),
        (_bad("position: [0, 0, 0.75]", "positon: [0, 0, 0.75]"), ["entities[0].positon", "did you mean 'position'"]),
        (_bad("size: [0.05]", "size: [0.05, 1]"), ["entities[1]", "sphere needs 1 number", "[0.05, 1.0]"]),
        (_bad('color: "#ff0000"', 'color: "red"'), ["entities[1].color", "'#rrggbb'", "'red'"]),
        (_bad("type: apply_impulse", "type: teleport"), ["steps[0].events[0].type", "'teleport'", "apply_impulse"]),
        (_bad("impulse: [0.3, 0, 0]", "impulse: [0.3, 0]"), ["steps[0].events[0].impulse"]),
        (_bad("fixed: true ", "fixed: true\n    fixed: false"), ["malformed YAML"]),
        ("entities: [\n", ["malformed YAML", "line"]),
        ("- just\n- a list\n", ["must be a mapping"]),
        (_bad("fps: 24", "fps: 0"), ["render.fps", "greater than or equal to 1"]),
    ],
)
def test_bad_scene_message(text, expected):
    with pytest.raises(SceneError) as info:
        parse_scene(text, source="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: ")
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_impulse_on_fixed_entity_is_rejected_with_the_fix():
    with pytest.raises(SceneError, match="release it first with set_property fixed: false"):
        parse_scene(_bad("entity: ball", "entity: table"))


def test_removed_entity_cannot_be_used_later():
    text = _bad(
        "      - {type: apply_impulse, entity: ball, impulse: [0.3, 0, 0]}",
        "      - {type: remove, entity: ball}\n      - {type: set_velocity, entity: ball, velocity: [1, 0, 0]}",
    )
    with pytest.raises(SceneError, match=r"steps\[0\]\.events\[1\]: unknown entity 'ball'"):
        parse_scene(text)


def test_cli_exits_2_with_one_message_and_no_traceback(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text(_bad("position: [0, 0, 0.75]", "positon: [0, 0, 0.75]"))
    result = run_cli("play", str(bad), "--out", str(tmp_path / "x.mp4"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert str(bad) in result.stderr and "positon" in result.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_cli_missing_file(tmp_path):
    result = run_cli("check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "no such scene file" in result.stderr
