"""Composite entities: several primitive parts compiled into ONE MuJoCo body, checked against MuJoCo."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.geometry import GeometryRenderer
from simulator.bounds import entity_box
from simulator.loader import SceneError, parse_scene
from simulator.world import World

# An L-shaped thing: a low plate on the left, a tall post standing apart on the right, an empty
# gap between them (inside the envelope but outside every part).
L_SHAPE = """
name: ell
camera: {position: [0, -3, 1.0], look_at: [0, 0, 0.3], fov: 45}
entities:
- id: ell
  fixed: true
  position: [0, 0, 0.3]
  color: '#886644'
  mass: 12.0
  description: an L-shaped stand
  parts:
  - {shape: box, size: [0.4, 0.4, 0.1], position: [-0.3, 0, -0.25]}
  - {shape: box, size: [0.1, 0.1, 0.6], position: [0.45, 0, 0], color: '#223344'}
"""


def _scene(extra: str = "", fixed: str = "true"):
    return parse_scene(L_SHAPE.replace("fixed: true", f"fixed: {fixed}") + extra)


def _ball_at(x: float) -> str:
    return f"- {{id: ball, shape: sphere, size: [0.04], position: [{x}, 0, 1.2], mass: 0.1}}\n"


def test_parts_are_recentred_and_the_entity_size_is_their_envelope():
    e = _scene().entities[0]
    assert e.shape == "box" and e.size == pytest.approx((1.0, 0.4, 0.6))
    box = entity_box(World(_scene()).state().entities["ell"])
    assert box.lo == pytest.approx((-0.5, -0.2, 0.0)) and box.hi == pytest.approx((0.5, 0.2, 0.6))


def test_one_body_one_mass_shared_by_volume_and_the_inertia_of_two_boxes():
    world = World(_scene(fixed="false"))
    m = world.model
    body = m.body("ell").id
    assert m.nbody == 2 and list(world.geom_entity_ids()).count("ell") == 2
    assert m.body_mass[body] == pytest.approx(12.0)
    plate, post = 0.4 * 0.4 * 0.1, 0.1 * 0.1 * 0.6
    assert world.spec.geom("ell/0").mass == pytest.approx(12.0 * plate / (plate + post))
    # the inertia of the two boxes about their common centre of mass, by hand
    centres = np.array([[-0.3, 0, 0.05], [0.45, 0, 0.3]])
    dims = np.array([[0.4, 0.4, 0.1], [0.1, 0.1, 0.6]])
    masses = 12.0 * np.array([plate, post]) / (plate + post)
    com = (masses[:, None] * centres).sum(0) / masses.sum()
    tensor = np.zeros((3, 3))
    for c, d, mass in zip(centres, dims, masses):
        tensor += np.diag(mass / 12 * np.array([d[1] ** 2 + d[2] ** 2, d[0] ** 2 + d[2] ** 2, d[0] ** 2 + d[1] ** 2]))
        r = c - com
        tensor += mass * (np.dot(r, r) * np.eye(3) - np.outer(r, r))
    assert sorted(m.body_inertia[body]) == pytest.approx(sorted(np.linalg.eigvalsh(tensor)), rel=1e-6)
    assert world.state().entities["ell"].mass == pytest.approx(12.0)


@pytest.mark.parametrize("x, rests_at", [(-0.3, 0.1 + 0.04), (0.45, 0.6 + 0.04), (0.12, 0.04)])
def test_a_ball_lands_on_each_part_and_falls_through_the_gap_between_them(x, rests_at):
    world = World(_scene(_ball_at(x)))
    world.advance(1.5, 10)
    assert world.state().entities["ball"].position[2] == pytest.approx(rests_at, abs=0.004)


def test_a_free_composite_falls_and_rests_on_its_parts():
    world = World(parse_scene(L_SHAPE.replace("fixed: true", "fixed: false").replace("[0, 0, 0.3]", "[0, 0, 0.5]")))
    world.advance(1.5, 10)
    state = world.state().entities["ell"]
    assert entity_box(state).lo[2] == pytest.approx(0.0, abs=0.003)
    assert max(abs(v) for v in state.velocity) < 0.01


def test_every_part_is_one_segmentation_label_and_the_export_lists_the_parts():
    scene = _scene()
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        frame = renderer.render(world, segmentation=True)
    assert frame.labels.count("ell") == 1
    label = frame.labels.index("ell")
    mask = frame.segmentation == label
    cols = np.nonzero(mask.any(axis=0))[0]
    # the plate (left) and the post (right) are both "ell", with the gap between them not
    assert mask.sum() > 200 and (np.diff(cols) > 3).any()
    exported = world.state().entities["ell"]
    assert [p.shape for p in exported.parts] == ["box", "box"]
    assert exported.parts[1].color == "#223344" and exported.parts[0].color == "#886644"
    assert exported.parts[1].position == pytest.approx((0.45, 0.0, 0.0))


def test_colour_mass_and_release_apply_to_the_whole_thing_and_survive_a_snapshot():
    from simulator.scene import SetPropertyEvent

    world = World(_scene())
    world.apply([SetPropertyEvent(type="set_property", entity="ell", color="#ff0000", mass=6.0, fixed=False)])
    m = world.model
    assert all(tuple(m.geom_rgba[m.geom(f"ell/{i}").id][:3]) == pytest.approx((1.0, 0, 0)) for i in (0, 1))
    assert world.mass("ell") == pytest.approx(6.0)
    snap = world.snapshot()
    world.advance(0.3, 10)
    after = world.state()
    other = World(_scene())
    other.restore(snap)
    other.advance(0.3, 10)
    assert other.state() == after


@pytest.mark.parametrize("bad, path", [
    ("[0.4, 0.4]", "entities[0].parts[0].size: size for a box needs 3 number(s)"),
    ("[0.4, 0.4, -1]", "entities[0].parts[0].size: size values must lie between"),
])
def test_a_bad_part_is_named_by_its_index(bad, path):
    with pytest.raises(SceneError) as err:
        parse_scene(L_SHAPE.replace("[0.4, 0.4, 0.1]", bad))
    assert path in str(err.value)


def test_parts_and_a_primitive_shape_together_are_refused():
    with pytest.raises(SceneError, match="entities\\[0\\]: .*drop shape 'sphere'"):
        parse_scene(L_SHAPE.replace("  fixed: true", "  fixed: true\n  shape: sphere"))
    with pytest.raises(SceneError, match="entities\\[0\\]: an entity needs a shape and a size"):
        parse_scene(L_SHAPE.split("  parts:")[0])
    with pytest.raises(SceneError, match="entities\\[0\\].parts\\[1\\].colou?r"):
        parse_scene(L_SHAPE.replace("'#223344'", "red"))
