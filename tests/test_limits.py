"""One set of limits everywhere: the same bound at every entry point, strict files and JSON, and
divergence as an error that names the step and the entity (never a NaN in the output)."""

from __future__ import annotations

import json
import math
import os
import resource
import time

import pytest
from pydantic import ValidationError

from agent.planner import validate as plan_validate
from agent.planner.formats.plan import TurnPlan, plan_json_schema
from agent.turns.turn import TurnRequest
from simulator.limits import LIMITS, LimitError, parse_json
from simulator.loader import SceneError, load_scene, parse_scene
from simulator.scene import EntitySpec, SetPropertyEvent, StepSpec
from simulator.world import DivergenceError, World
from tests.conftest import SCENES, run_cli

BALL = (SCENES / "ball-off-table.yaml").read_text(encoding="utf-8")
KICK = {"type": "apply_impulse", "entity": "ball", "impulse": [0.1, 0, 0]}
FAST = """
name: runaway
physics: {timestep: 0.002}
entities:
  - {id: puck, shape: sphere, size: [0.05], position: [97.0, 0, 0.05], velocity: [20, 0, 0]}
steps:
  - {action: wait, duration: 0.1, events: []}
  - {action: slide on, duration: 1.0, events: []}
"""


def _rejects(text: str, *parts: str) -> str:
    with pytest.raises(SceneError) as info:
        parse_scene(text, source="hostile.yaml")
    message = str(info.value)
    for part in parts:
        assert part in message, (part, message)
    return message


# ---- one definition -----------------------------------------------------------------------------


def test_every_entry_point_reads_the_same_limits():
    from server import protocol

    assert protocol.MAX_EVENTS == LIMITS.max_events_per_step
    assert TurnPlan.model_json_schema()["properties"]["events"]["maxItems"] == LIMITS.max_events_per_step
    assert protocol.MAX_ACTION_CHARS == LIMITS.max_action_chars
    for model in (StepSpec, TurnRequest, protocol.ActionMsg):
        seconds = model.model_json_schema()["properties"]["duration"]["anyOf"][0]  # or null: until rest
        assert seconds["minimum"] == LIMITS.min_turn_seconds, model
        assert seconds["maximum"] == LIMITS.max_turn_seconds, model
    decode = plan_json_schema()["properties"]["events"]
    assert decode["maxItems"] <= LIMITS.max_events_per_step
    mass = EntitySpec.model_json_schema()["properties"]["mass"]["anyOf"][0]
    assert (mass["minimum"], mass["maximum"]) == (LIMITS.min_mass, LIMITS.max_mass)


def test_one_event_too_many_is_refused_at_every_entry_point():
    from server.protocol import ActionMsg, ProtocolError, parse_client

    n = LIMITS.max_events_per_step
    events = [KICK] * (n + 1)
    with pytest.raises(ValidationError, match=f"at most {n} items"):
        TurnRequest.model_validate({"action": "kick", "events": events})
    with pytest.raises(ValidationError):
        TurnPlan.model_validate({"events": events})
    with pytest.raises(ProtocolError) as info:
        parse_client(json.dumps({"type": "action", "action": "kick", "events": events}))
    assert info.value.error.field == "events"
    assert ActionMsg.model_json_schema()["properties"]["events"]["anyOf"][0]["maxItems"] == n
    world = World(parse_scene(BALL))
    issues = plan_validate(world.state(), {"narration": "x", "events": events})
    assert [i.code for i in issues] == ["too_many_events"]
    from simulator.scene import ApplyImpulseEvent

    assert f"at most {n}" in world.check([ApplyImpulseEvent.model_validate(KICK)] * (n + 1))[0].message
    assert not world.check([ApplyImpulseEvent.model_validate({**KICK, "impulse": [0.01, 0, 0]})] * n)
    extra = "  - {type: apply_impulse, entity: ball, impulse: [0.001, 0, 0]}\n" * n
    _rejects(BALL.replace("  - type: apply_impulse", extra + "  - type: apply_impulse", 1), "steps[1].events",
             f"at most {n}")


@pytest.mark.parametrize("mass", [1e-13, 1e-300, 0.0, -1.0, 1e308, math.inf, math.nan])
def test_a_bad_mass_is_refused_everywhere(mass):
    from server.protocol import ProtocolError, parse_client

    with pytest.raises(ValidationError):
        SetPropertyEvent(type="set_property", entity="ball", mass=mass)
    with pytest.raises(ValidationError):
        EntitySpec(id="x", shape="sphere", size=(0.1,), position=(0, 0, 1), mass=mass)
    event = {"type": "set_property", "entity": "ball", "mass": mass}
    if math.isfinite(mass):
        with pytest.raises(ProtocolError):
            parse_client(json.dumps({"type": "action", "action": "x", "events": [event]}))
    issues = plan_validate(World(parse_scene(BALL)).state(), {"events": [event]})
    assert issues and issues[0].path[:2] == ("events", 0)
    _rejects(BALL.replace("mass: 0.2", f"mass: {mass!r}".replace("inf", ".inf").replace("nan", ".nan")),
             "entities[1].mass")


@pytest.mark.parametrize("replace, by, parts", [
    ("friction: 0.8\n  description: a glossy", "friction: 1.0e+308\n  description: a glossy", ["friction", "10"]),
    ("size: [0.06]", "size: [1.0e-9]", ["size values must lie between 0.005 and 10"]),
    ("size: [0.06]", "size: [.inf]", ["size"]),
    ("gravity: [0, 0, -9.81]", "gravity: [0, 0, .inf]", ["physics.gravity", "finite"]),
    ("gravity: [0, 0, -9.81]", "gravity: [0, 0, -1000]", ["physics.gravity", "the limit is 100"]),
    ("position: [-0.35, 0, 0.835]", "position: [1.0e+20, 0, 0.835]", ["entities[1].position", "outside the world"]),
    ("timestep: 0.002", "timestep: 1.0e-9", ["physics.timestep", "greater than or equal to 0.0005"]),
    ("render: {width: 320, height: 240, fps: 24}", "render: {width: 4096, height: 4096, fps: 240}",
     ["render.width", "render.fps"]),
    ("render: {width: 320, height: 240, fps: 24}", "render: {width: 1920, height: 1920, fps: 24}",
     ["render size 1920x1920"]),
    ("impulse: [0.3, 0, 0]", "impulse: [30, 0, 0]", ["steps[1].events[0]", "keep |impulse| under"]),
    ("duration: 2.0", "duration: 1.0e+9", ["steps[1].duration"]),
    ("seed: 0", "seed: " + "9" * 5000, ["integer of 5000 digits"]),
])
def test_scene_values_beyond_the_limits_name_field_and_limit(replace, by, parts):
    assert replace in BALL
    _rejects(BALL.replace(replace, by, 1), *parts)


def test_entity_count_step_count_and_total_frames_are_bounded():
    many = "\n".join(f"- {{id: b{i}, shape: sphere, size: [0.05], position: [{i % 50}, {i // 50}, 1]}}"
                     for i in range(LIMITS.max_entities + 1))
    _rejects(f"name: crowd\nentities:\n{many}\n", "entities", "at most 100 items")
    spawns = "\n".join(f"  - {{events: [{{type: spawn, entity: {{id: s{i}, shape: box, size: [0.1, 0.1, 0.1], "
                       f"position: [{i % 40 - 20}, {i // 40}, 2]}}}}], duration: 0.05}}" for i in range(101))
    _rejects(f"name: spawner\nsteps:\n{spawns}\n", "steps[100].events[0]", "the limit is 100")
    long = "\n".join("  - {duration: 60}" for _ in range(11))
    _rejects(f"name: long\nsteps:\n{long}\n", "simulate 660 s in all; the limit is 600 s")


# ---- files and JSON -----------------------------------------------------------------------------


def test_only_small_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    for path in (fifo, "/dev/zero", "/dev/urandom", tmp_path):
        with pytest.raises(SceneError, match="not a regular file"):
            load_scene(path)
    assert time.monotonic() - t0 < 5  # the FIFO did not block
    big = tmp_path / "big.yaml"
    big.write_text(BALL + "#" * LIMITS.max_scene_bytes)
    with pytest.raises(SceneError, match="scene files are at most 1048576 bytes"):
        load_scene(big)
    raw = tmp_path / "latin.yaml"
    raw.write_bytes(BALL.encode()[:100] + b"\xff" + BALL.encode()[100:])
    with pytest.raises(SceneError, match="not UTF-8"):
        load_scene(raw)


def test_hostile_yaml_is_refused_quickly_and_small():
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    cases = {
        "\n".join(bomb): "more than 64 aliases",
        "name: x\nentities: " + "[" * 1200 + "]" * 1200: "nesting deeper than 32",
        "? [a, b]\n: 1\nname: x\n": "is not a plain string",
        "1: one\nname: x\n": "key '1' is not a plain string",
    }
    few = ["a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"] + [f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]"
                                                     for p, c in zip("abcde", "bcdef")]
    cases["\n".join(few)] = "expands to more than 200000 values"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    for text, message in cases.items():
        with pytest.raises(SceneError, match=message):
            parse_scene(text, source="hostile.yaml")
    assert time.monotonic() - t0 < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: no blow-up


@pytest.mark.parametrize("text, message", [
    ("[" * 1000 + "]" * 1000, "deeper than 16"),
    ('{"a": NaN}', "NaN is not a number JSON allows"),
    ('{"a": -Infinity}', "-Infinity is not a number JSON allows"),
    ('{"a": 1e400}', "too large for a number"),
    ('{"a": ' + "9" * 30 + "}", "30 digits is too long"),
])
def test_strict_json(text, message):
    with pytest.raises(LimitError, match=message):
        parse_json(text)


def test_strict_json_accepts_ordinary_messages():
    assert parse_json('{"a": [1, 2.5, {"b": "[[[["}], "c": null}') == {"a": [1, 2.5, {"b": "[[[["}], "c": None}
    assert parse_json("[" * 16 + "]" * 16) == [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]
    with pytest.raises(ValueError):
        parse_json("{not json")


# ---- divergence -----------------------------------------------------------------------------


def test_a_body_leaving_the_world_is_a_divergence_naming_step_and_entity():
    scene = parse_scene(FAST)
    world = World(scene)
    world.apply([], step=0)
    world.advance(0.1, 24)
    world.apply([], step=1)
    with pytest.raises(DivergenceError) as info:
        world.advance(1.0, 24)
    err = info.value
    assert (err.step, err.entity) == (1, "puck") and 0.1 < err.time < 0.2
    assert "step 1" in str(err) and "'puck'" in str(err) and "left the world" in str(err)


def test_non_finite_state_is_caught_before_anyone_reads_it():
    world = World(parse_scene(BALL))
    dof = world.free_joints()["ball"][1]
    world.data.qvel[dof] = math.nan
    with pytest.raises(DivergenceError, match="'ball'.*(non-finite|not finite)"):
        world.advance(0.1, 24)
    world = World(parse_scene("name: spin\nentities:\n  - {id: top, shape: box, size: [0.1, 0.1, 0.1], "
                              "position: [0, 0, 20]}\n"))
    world.data.qvel[world.free_joints()["top"][1] + 5] = 2 * LIMITS.max_state_spin
    with pytest.raises(DivergenceError, match="'top'.*spins at"):
        world.advance(0.05, 24)


def test_check_and_play_agree_on_a_diverging_scene(tmp_path):
    path = tmp_path / "runaway.yaml"
    path.write_text(FAST)
    check = run_cli("check", str(path))
    assert check.returncode == 2, check.stderr
    assert "steps[1]" in check.stderr and "diverged at step 1" in check.stderr and "'puck'" in check.stderr
    play = run_cli("play", str(path), "--planner", "scripted", "--preset", "fast", "--out", str(tmp_path / "o.mp4"),
                   "--state-out", str(tmp_path / "o.jsonl"))
    assert play.returncode == 2 and "diverged at step 1" in play.stderr and "Traceback" not in play.stderr
    lines = (tmp_path / "o.jsonl").read_text().splitlines() if (tmp_path / "o.jsonl").exists() else []
    assert all("NaN" not in line and "Infinity" not in line for line in lines)


def test_check_runs_every_steps_events_against_the_world(tmp_path):
    path = tmp_path / "overlap.yaml"  # the spawn lands inside the (fixed, so never moving) table
    path.write_text(BALL.replace("  - type: apply_impulse\n    entity: ball\n    impulse: [0.3, 0, 0]",
                                 "  - {type: spawn, entity: {id: crate, shape: box, size: [0.3, 0.3, 0.3], "
                                 "position: [0.2, 0, 0.75]}}"))
    with pytest.raises(SceneError, match=r"steps\[1\]\.events\[0\]\.entity\.position: .*overlaps 'table'"):
        load_scene(path)
    check = run_cli("check", str(path), str(SCENES / "box-drop.yaml"))
    assert check.returncode == 2
    assert "steps[1].events[0].entity.position" in check.stderr and "overlaps 'table'" in check.stderr
    assert "ok " in check.stderr and "box-drop.yaml" in check.stderr  # the good file still reports ok


def test_session_names_match_whole():
    from agent.turns.sessions import SessionError, check_name

    assert check_name("kitchen-2") == "kitchen-2"
    for bad in ("x\n", "x\ny", "X", "", "a" * 65, "../x"):
        with pytest.raises(SessionError, match="is not valid"):
            check_name(bad)


def test_a_deeply_nested_do_is_an_error_and_the_repl_goes_on(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "CALLOSUM_HOME": str(tmp_path), "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "agent", "interact", str(SCENES / "ball-off-table.yaml"), "--planner",
                        "scripted"], input=":do " + "[" * 1000 + "\n:do {\"duration\": NaN}\n:quit\n",
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deeper than 16" in r.stdout and "NaN is not a number JSON allows" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr and r.stdout.rstrip().endswith("bye")
