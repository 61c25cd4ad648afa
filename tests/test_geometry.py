"""The geometry pass: pixels, metric depth and entity segmentation from MuJoCo's renderer."""

import os
import subprocess
import sys

import numpy as np
import pytest

from renderer.geometry import GeometryRenderer, Pose
from simulator import World, load_scene, parse_scene
from simulator.scene import EntitySpec, SetPropertyEvent, SpawnEvent
from tests.conftest import ROOT, SCENES

TOP_DOWN = """
name: top-down
camera: {position: [0, 0, 2.0], look_at: [0, 0, 0], fov: 40}
render: {width: 64, height: 48, fps: 24}
entities:
  - {id: block, shape: box, size: [0.4, 0.4, 0.5], position: [0, 0, 0.25], fixed: true, color: "#ff0000"}
"""


@pytest.fixture(scope="module")
def table_world():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        yield world, renderer


def test_segmentation_labels_are_entity_ids(table_world):
    world, renderer = table_world
    frame = renderer.render(world, segmentation=True)
    assert frame.segmentation.shape == frame.rgb.shape[:2]
    present = {frame.labels[i] for i in np.unique(frame.segmentation) if i >= 0}
    assert {"ground", "table", "ball"} <= present
    ball = frame.segmentation == frame.labels.index("ball")
    r, g, b = frame.rgb[ball].mean(axis=0)
    assert r > 1.5 * g and r > 1.5 * b  # the ball's pixels are its red colour
    assert (frame.segmentation == -1).any()  # the sky


def test_colour_change_shows_in_the_pixels():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        world.apply([SetPropertyEvent(type="set_property", entity="ball", color="#00ff00")])
        frame = renderer.render(world, segmentation=True)
    r, g, b = frame.rgb[frame.segmentation == frame.labels.index("ball")].mean(axis=0)
    assert g > 1.5 * r and g > 1.5 * b


def test_depth_is_metric():
    scene = parse_scene(TOP_DOWN)
    with GeometryRenderer(scene, preset="fast") as renderer:
        frame = renderer.render(World(scene), depth=True, segmentation=True)
    h, w = frame.depth.shape
    assert frame.depth[h // 2, w // 2] == pytest.approx(1.5, rel=0.01)  # box top at 0.5 m, camera at 2 m
    floor = frame.segmentation == frame.labels.index("ground")
    corner_depth = frame.depth[0, 0]
    assert floor[0, 0] and corner_depth == pytest.approx(2.0, rel=0.01)  # depth along the view axis


def test_stereo_pair_is_side_by_side_and_eyes_differ(table_world):
    world, renderer = table_world
    mono = renderer.render(world)
    pair = renderer.render(world, stereo=True, ipd=0.064, depth=True, segmentation=True)
    assert pair.rgb.shape == (mono.rgb.shape[0], 2 * mono.rgb.shape[1], 3)
    left, right = pair.eyes()
    assert left.rgb.shape == mono.rgb.shape and right.depth.shape == mono.rgb.shape[:2]
    assert not np.array_equal(left.rgb, right.rgb)
    assert np.array_equal(renderer.render(world, stereo=True, ipd=0.0).eyes()[0].rgb, mono.rgb)


def test_pose_moves_the_view(table_world):
    world, renderer = table_world
    a = renderer.render(world).rgb
    turned = Pose.look_at(world.scene.camera.position, (3.0, 3.0, 0.5))
    b = renderer.render(world, pose=turned).rgb
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


def test_spawned_entity_is_rendered_without_a_new_renderer():
    scene = load_scene(SCENES / "ball-off-table.yaml")
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        renderer.render(world)
        world.apply([SpawnEvent(type="spawn", entity=EntitySpec(
            id="cube", shape="box", size=(0.3, 0.3, 0.3), position=(0, 0, 1.2), color="#0000ff"))])
        frame = renderer.render(world, segmentation=True)
    assert "cube" in frame.labels
    cube = frame.segmentation == frame.labels.index("cube")
    assert cube.sum() > 50 and frame.rgb[cube][:, 2].mean() > frame.rgb[cube][:, 0].mean()


def test_presets_agree_on_content(table_world):
    world, fast = table_world
    with GeometryRenderer(world.scene, preset="quality") as quality:
        q = quality.render(world, segmentation=True)
    f = fast.render(world, segmentation=True)
    assert np.array_equal(q.segmentation, f.segmentation)
    with pytest.raises(ValueError, match="preset must be one of"):
        GeometryRenderer(world.scene, preset="ultra")


def test_no_gl_names_the_packages_to_install():
    code = (
        "from simulator import World, load_scene\n"
        "from renderer.geometry import GeometryRenderer\n"
        f"GeometryRenderer(load_scene({str(SCENES / 'ball-off-table.yaml')!r}))\n"
    )
    env = {**os.environ, "MUJOCO_GL": "glfw", "DISPLAY": "", "PYOPENGL_PLATFORM": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode != 0
    assert "GLUnavailableError" in out.stderr and "libegl1" in out.stderr and "libosmesa6" in out.stderr


def test_an_off_centre_eye_frustum_puts_a_point_where_its_projection_says():
    """A headset eye's asymmetric frustum: a small sphere lands on the pixel its tangents predict,
    and its metric depth is exact."""
    scene = parse_scene("""
name: marker
camera: {position: [0, -3, 1], look_at: [0, 0, 1], fov: 45}
render: {width: 64, height: 48, fps: 24}
entities:
  - {id: dot, shape: sphere, size: [0.03], position: [0.4, 0, 1.25], fixed: true, color: "#ff0000"}
""")
    from renderer.geometry import EyeView

    world = World(scene)
    eye = Pose.look_at((0.0, -2.0, 1.0), (0.0, 0.0, 1.0))  # the dot is 2 m ahead, 0.4 m right, 0.25 m up
    tangents = (-0.9, 1.3, -1.1, 0.7)  # wider to the right and downward, like a headset's outer eye
    with GeometryRenderer(scene, 200, 180, preset="fast") as renderer:
        frame = renderer.render(world, eyes=(EyeView(eye, tangents),), depth=True)
    red = (frame.rgb[..., 0] > 150) & (frame.rgb[..., 1] < 80)
    ys, xs = np.nonzero(red)
    left, right, bottom, top = tangents
    u = (0.4 / 2.0 - left) / (right - left) * 200  # pixel column of the dot's centre
    v = (top - 0.25 / 2.0) / (top - bottom) * 180  # pixel row (rows grow downward)
    assert abs(xs.mean() + 0.5 - u) < 1.0 and abs(ys.mean() + 0.5 - v) < 1.0
    assert frame.depth[int(ys.mean()), int(xs.mean())] == pytest.approx(2.0 - 0.03, abs=0.02)
