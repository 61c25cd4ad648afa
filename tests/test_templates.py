"""Every template compiles, rests on the floor, and containers hold what is put in them."""

from __future__ import annotations

import pytest

from simulator.bounds import entity_box
from simulator.loader import SceneError, parse_scene
from simulator.templates import TemplateError, expand, templates
from simulator.templates.expr import ExprError, compile_expr, evaluate
from simulator.world import World

NAMES = sorted(templates())


def _world(entities: str) -> World:
    return World(parse_scene(f"name: t\nentities:\n{entities}"))


def test_there_are_a_few_dozen_templates_with_real_masses():
    assert len(NAMES) >= 30
    masses = {n: expand(n).mass for n in NAMES}
    assert 15 < masses["table"] < 60 and 0.2 < masses["mug"] < 0.6 and 0.3 < masses["ball"] < 0.6
    assert all(0.001 < m < 2000 for m in masses.values()), masses


@pytest.mark.parametrize("name", NAMES)
def test_each_template_dropped_on_the_floor_rests_within_a_second(name):
    x = expand(name)
    z = x.extent[2] / 2 + 0.005
    world = _world(f"- {{id: thing, template: {name}, position: [0, 0, {z}], fixed: false}}\n")
    world.advance(1.0, 10)
    state = world.state().entities["thing"]
    assert max(abs(v) for v in state.velocity) < 0.02, f"{name} still moves: {state.velocity}"
    assert max(abs(w) for w in state.angular_velocity) < 0.2, f"{name} still turns: {state.angular_velocity}"
    box = entity_box(state)
    assert box.lo[2] > -0.004, f"{name} sinks into the floor: bottom at {box.lo[2]:.4f}"
    assert box.hi[2] == pytest.approx(x.extent[2], abs=0.01), f"{name} fell over: top at {box.hi[2]:.3f}"


@pytest.mark.parametrize("container, radius", [("bowl", 0.03), ("crate", 0.08), ("cup", 0.015),
                                                ("bucket", 0.05), ("tray", 0.03), ("carton", 0.06)])
def test_a_ball_dropped_into_a_container_stays_in_it(container, radius):
    x = expand(container)
    cx, cy, floor, sx, sy = x.inside
    ball_z = floor + radius + 0.15
    world = _world(f"- {{id: holder, template: {container}, position: [0, 0, {x.extent[2] / 2}]}}\n"
                   f"- {{id: ball, shape: sphere, size: [{radius}], position: [0.01, 0.01, {ball_z}], mass: 0.05}}\n")
    world.advance(1.5, 10)
    ball = world.state().entities["ball"]
    assert abs(ball.position[0]) < sx / 2 and abs(ball.position[1]) < sy / 2, f"left the {container}"
    assert ball.position[2] == pytest.approx(floor + radius, abs=0.006), f"not on the {container}'s floor"


def test_a_ball_on_a_table_top_rests_at_the_top_and_a_ball_beside_it_falls_to_the_floor():
    world = _world("- {id: table, template: table, position: [0, 0, 0.375]}\n"
                   "- {id: a, shape: sphere, size: [0.05], position: [0.2, 0, 0.9]}\n"
                   "- {id: b, shape: sphere, size: [0.05], position: [0.8, 0, 0.9]}\n")
    world.advance(1.0, 10)
    s = world.state().entities
    assert s["a"].position[2] == pytest.approx(0.8, abs=0.005) and s["b"].position[2] == pytest.approx(0.05, abs=0.005)


def test_parameters_and_materials_change_the_thing():
    tall, metal = expand("table", {"height": 1.0}), expand("table", material="metal")
    assert tall.extent[2] == pytest.approx(1.0) and tall.top[2] == pytest.approx(1.0)
    assert metal.mass > 10 * expand("table").mass and metal.color == "#a8a9ad"


@pytest.mark.parametrize("entity, message", [
    ("template: tabel", "entities[0]: unknown template 'tabel'; did you mean 'table'?"),
    ("template: table, params: {hieght: 1}", "params.hieght: template 'table' has no parameter 'hieght'"),
    ("template: table, params: {height: -1}", "params.height: -1 must be a positive number"),
])
def test_a_bad_template_names_the_field_and_the_fix(entity, message):
    with pytest.raises(SceneError) as err:
        parse_scene(f"name: t\nentities:\n- {{id: t, position: [0, 0, 1], {entity}}}\n")
    assert message in str(err.value)


def test_template_expressions_are_arithmetic_only():
    assert evaluate(compile_expr("2 * cos(60) + sqrt(w)"), {"w": 4.0}) == pytest.approx(3.0)
    for bad in ["__import__('os')", "w.real", "[1, 2]", "'a'"]:
        with pytest.raises(ExprError):
            compile_expr(bad)
    with pytest.raises(TemplateError):
        expand("table", {"legs": 3})
