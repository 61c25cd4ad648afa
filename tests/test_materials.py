"""Materials as data and as physics: plausible values, clear errors, real bounces, an icy floor, and
balls that roll to a stop."""

import re

import numpy as np
import pytest
from pydantic import ValidationError

from simulator import EventError, SceneError, World, parse_scene
from simulator.materials import materials, surface
from simulator.scene import EntitySpec, SetPropertyEvent, SetVelocityEvent


def test_every_material_has_plausible_units():
    known = materials()
    assert len(known) >= 20
    for name, m in known.items():
        assert 20 <= m.density <= 22_000, name  # kg/m³: foam .. gold
        assert 0.01 <= m.slide <= 1.5, name
        assert 0 <= m.bounciness <= 1 and 0 <= m.torsion <= 0.2 and 0 < m.roll <= 0.5, name
        assert re.fullmatch(r"#[0-9a-f]{6}", m.colour), name
    assert known["ice"].slide < 0.1 < known["wood"].slide < known["rubber"].slide
    assert known["foam"].density < known["cardboard"].density < known["wood"].density < 1000
    assert 1000 < known["stone"].density < known["metal"].density < known["gold"].density
    assert known["rubber"].bounciness > known["wood"].bounciness > known["clay"].bounciness
    assert known["felt"].roll > known["wood"].roll > known["glass"].roll


def test_round_bodies_get_rolling_and_torsional_friction_scaled_by_radius():
    small, big = surface("sphere", (0.02,), "rubber", None, None, 0.002), surface("sphere", (0.2,), "rubber", None, None, 0.002)
    assert small.condim == big.condim == 6
    assert big.friction[2] == pytest.approx(10 * small.friction[2])
    box = surface("box", (0.1, 0.1, 0.1), None, 0.7, None, 0.002)
    assert box.condim == 3 and box.friction == (0.7, 0.005, 0.0001) and box.solref is None


def test_an_unknown_material_names_the_field_the_value_and_the_known_ones():
    with pytest.raises(ValidationError) as info:
        EntitySpec(id="b", shape="sphere", size=(0.1,), position=(0, 0, 1), material="unobtanium")
    text = str(info.value)
    assert "material" in text and "'unobtanium'" in text and "rubber" in text and "wood" in text
    with pytest.raises(SceneError, match=r"entities\[0\]\.material.*unobtanium.*known materials: aluminium"):
        parse_scene("name: x\nentities:\n  - {id: b, shape: sphere, size: [0.1], position: [0, 0, 1], material: unobtanium}\n")
    with pytest.raises(ValidationError, match="known materials"):
        SetPropertyEvent(type="set_property", entity="b", material="jelly")
    with pytest.raises(SceneError, match="ground.material"):
        parse_scene("name: x\nground: {material: lava}\n")


def test_material_sets_colour_mass_and_limits():
    wood = EntitySpec(id="b", shape="box", size=(0.1, 0.1, 0.1), position=(0, 0, 0.05), material="wood")
    assert wood.color == materials()["wood"].colour
    red = EntitySpec(id="b", shape="box", size=(0.1, 0.1, 0.1), position=(0, 0, 0.05), material="wood", color="#ff0000")
    assert red.color == "#ff0000"
    scene = parse_scene("name: x\nentities:\n  - {id: b, shape: box, size: [0.1, 0.1, 0.1], position: [0, 0, 0.05], "
                        "material: steel}\n")
    assert World(scene).state().entities["b"].mass == pytest.approx(7.85)
    with pytest.raises(ValidationError, match="weighs 2.12e\\+05 kg"):
        EntitySpec(id="b", shape="box", size=(3, 3, 3), position=(0, 0, 2), material="steel")
    with pytest.raises(ValidationError, match="reserved for the floor"):
        EntitySpec(id="ground", shape="sphere", size=(0.1,), position=(0, 0, 1))


def _bounce(material: str, floor: str | None = None) -> float:
    """Highest the ball's bottom rises after first touching the floor, dropped from 1 m."""
    ground = f"ground: {{material: {floor}}}\n" if floor else ""
    scene = parse_scene(f"name: drop\n{ground}entities:\n  - {{id: ball, shape: sphere, size: [0.05], position: [0, 0, 1.05], "
                        f"material: {material}}}\n")
    world, touched, apex = World(scene), False, 0.0
    for _ in world.run(2.0, 60):
        z = world.state().entities["ball"].position[2] - 0.05
        touched = touched or z < 0.01
        if touched:
            apex = max(apex, z)
    return apex


def test_a_rubber_ball_bounces_visibly_higher_than_a_wooden_one():
    rubber, wood, clay = _bounce("rubber"), _bounce("wood"), _bounce("clay")
    assert rubber > 0.2, rubber          # about a quarter of the drop height
    assert rubber > 3 * wood, (rubber, wood)
    assert clay < 0.01
    assert _bounce("wood", floor="rubber") > 2 * wood  # a bouncy floor bounces a wooden ball
    assert _bounce("rubber", floor="ice") > 0.1  # an icy floor does not kill a rubber ball's bounce


def test_the_floor_turns_to_ice_and_stays_ice_through_a_snapshot():
    text = ("name: rink\nentities:\n  - {id: puck, shape: box, size: [0.1, 0.1, 0.05], position: [0, 0, 0.025], "
            "mass: 0.2}\n")
    push = SetVelocityEvent(type="set_velocity", entity="puck", velocity=(1.0, 0, 0))
    dry = World(parse_scene(text))
    dry.apply([push])
    dry.advance(1.5, 10)
    icy = World(parse_scene(text))
    icy.apply([SetPropertyEvent(type="set_property", entity="ground", material="ice", color="#dff3fb")])
    snap = icy.snapshot()
    icy.apply([push])
    icy.advance(1.5, 10)
    assert dry.state().entities["puck"].position[0] < 0.1 < 1.0 < icy.state().entities["puck"].position[0]
    again = World(parse_scene(text))
    again.restore(snap)
    assert again.ground.material == "ice" and again.ground.color == "#dff3fb"
    again.apply([push])
    again.advance(1.5, 10)
    assert again.snapshot() == icy.snapshot()
    with pytest.raises(EventError, match="ground cannot change mass"):
        icy.apply([SetPropertyEvent(type="set_property", entity="ground", mass=3.0)])


def test_set_property_material_changes_mass_friction_and_bounce():
    scene = parse_scene("name: x\nentities:\n  - {id: ball, shape: sphere, size: [0.05], position: [0, 0, 1.05], "
                        "material: wood, friction: 0.3}\n")
    world = World(scene)
    world.apply([SetPropertyEvent(type="set_property", entity="ball", material="steel")])
    ball = world.entities["ball"]
    assert (ball.material, ball.friction, ball.bounciness) == ("steel", None, None)
    assert world.mass("ball") == pytest.approx(7850 * 4 / 3 * np.pi * 0.05 ** 3, rel=1e-6)
    assert world.model.geom_friction[world.model.geom("ball").id][0] == pytest.approx(0.4)
    world.apply([SetPropertyEvent(type="set_property", entity="ball", bounciness=1.0)])
    assert world.model.geom_solref[world.model.geom("ball").id][1] == pytest.approx(0.15)


@pytest.mark.parametrize("material, lo, hi", [(None, 0.5, 3.0), ("rubber", 0.5, 3.0), ("felt", 0.1, 0.6)])
def test_a_ball_rolled_at_one_metre_per_second_stops_in_a_plausible_distance(material, lo, hi):
    extra = f", material: {material}" if material else ""
    scene = parse_scene(f"name: roll\nentities:\n  - {{id: ball, shape: sphere, size: [0.04], position: [0, 0, 0.04]"
                        f"{extra}}}\n")
    world = World(scene)
    world.apply([SetVelocityEvent(type="set_velocity", entity="ball", velocity=(1.0, 0, 0))])
    world.advance(6.0, 10)
    ball = world.state().entities["ball"]
    assert lo < ball.position[0] < hi, ball.position
    assert np.linalg.norm(ball.velocity) < 0.02
