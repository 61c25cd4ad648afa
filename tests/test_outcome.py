"""Faithful narration: outcomes computed from real MuJoCo runs, narration kept or replaced, captions
from the outcome, and "left" checked on the rendered screen."""

import numpy as np
import pytest

from agent.planner.narration.claims import contradictions
from agent.planner.cerebellum.compiler import compile_intent
from agent.planner.words.intent import COLOURS, Intent
from agent.planner.narration.reconcile import reconcile
from agent.planner.narration.outcome import compute_outcome
from agent.planner.formats.plan import TurnPlan
from simulator import load_scene
from simulator.world import World
from tests.conftest import SCENES


def run(scene_name: str, intent: Intent | None, seconds: float = 1.0):
    """(before, after, frames, events, camera) for one intent played on a fresh world."""
    scene = load_scene(SCENES / f"{scene_name}.yaml")
    w = World(scene)
    before = w.state()
    events = compile_intent(before, scene.camera, intent).events if intent else []
    w.apply(events)
    frames = [w.state() for _ in w.run(seconds, 24)]
    return before, frames[-1], frames, events, scene.camera


def test_a_push_left_is_narrated_left_and_a_wrong_direction_is_replaced():
    before, after, frames, events, camera = run("ball-off-table", Intent(verb="push", target="ball", direction="left"))
    good = reconcile(before, after, TurnPlan(narration="The ball is pushed to the left.", events=events), camera, frames)
    assert good.disagreement is None and good.plan.narration == "The ball is pushed to the left."
    assert "glossy red rubber ball" in good.plan.caption and "to the left" in good.plan.caption
    bad = reconcile(before, after, TurnPlan(narration="The ball rolls to the right.", events=events), camera, frames)
    assert bad.plan.narration.startswith("The ball moves") and "to the left" in bad.plan.narration
    assert "right" in bad.disagreement["reasons"][0] and bad.disagreement["narration"] == "The ball rolls to the right."
    moved = bad.outcome["moved"][0]
    assert moved["entity"] == "ball" and moved["directions"][0] == "left" and moved["distance"] > 0.3
    assert bad.plan.events == events  # only the words change


def test_a_claimed_spawn_that_did_not_happen_is_replaced():
    before, after, frames, events, camera = run("box-drop", None, 0.5)
    r = reconcile(before, after, TurnPlan(narration="A ball is dropped on the table."), camera, frames)
    assert r.plan.narration == "Nothing moves." and "appears" in r.disagreement["reasons"][0]
    assert r.outcome["appeared"] == [] and r.outcome["moved"] == []


def test_a_wrong_colour_is_replaced_by_the_real_one():
    before, after, frames, events, camera = run("ball-off-table", Intent(verb="recolor", target="ball", colour="blue"))
    r = reconcile(before, after, TurnPlan(narration="The ball turns green.", events=events), camera, frames)
    assert r.plan.narration == "The ball turns blue." and r.outcome["recoloured"] == {"ball": COLOURS["blue"]}


def test_an_indefinite_noun_that_names_a_body_is_checked_like_the_body():
    before, after, frames, events, camera = run("ball-off-table", Intent(verb="push", target="ball", direction="right"))
    for narration in ("A ball turns blue.", "A ball rolls to the left."):
        r = reconcile(before, after, TurnPlan(narration=narration, events=events), camera, frames)
        assert r.disagreement is not None and "to the right" in r.plan.narration, narration
    r = reconcile(before, after, TurnPlan(narration="A ball rolls to the right.", events=events), camera, frames)
    assert r.disagreement is None


def test_release_fall_and_the_outcome_record():
    before, after, frames, events, camera = run("apple-from-branch", Intent(verb="release", target="apple"))
    out = compute_outcome(before, after, camera, frames)
    assert out.released == ["apple"] and out.moved[0].entity == "apple"
    assert out.moved[0].displacement[2] < -0.9  # it fell onto the table
    assert out.sentence.startswith("The apple is let go. The apple falls 0.9")
    r = reconcile(before, after, TurnPlan(narration="The apple's stem snaps and it falls.", events=events), camera, frames)
    assert r.disagreement is None


def test_appear_vanish_and_mass_changes_are_in_the_outcome():
    before, after, frames, events, camera = run(
        "ball-off-table", Intent(verb="spawn", shape="box", noun="cardboard box", place="table", direction="down"))
    out = compute_outcome(before, after, camera, frames)
    assert out.appeared == ["box"] and out.sentence.startswith("A box appears.")
    before, after, frames, events, camera = run("box-drop", Intent(verb="remove", target="mug"))
    assert compute_outcome(before, after, camera).vanished == ["mug"]
    before, after, frames, events, camera = run("box-drop", Intent(verb="heavier", target="mug", amount=10))
    out = compute_outcome(before, after, camera)
    assert out.mass == {"mug": (0.3, 3.0)} and "heavier" in out.sentence
    r = reconcile(before, after, TurnPlan(narration="Nothing happens.", events=events), camera)
    assert r.plan.narration == out.sentence and "nothing happens" in r.disagreement["reasons"][0]


def test_a_toss_needs_the_frames_to_count_as_motion():
    before, after, frames, events, camera = run("ball-off-table", Intent(verb="toss_up", target="ball"), 1.5)
    plan = TurnPlan(narration="The ball is tossed up into the air.", events=events)
    assert reconcile(before, after, plan, camera, frames).disagreement is None
    assert compute_outcome(before, after, camera, frames).moved[0].rise > 0.3


def test_a_group_claim_holds_when_most_of_the_group_moved():
    before, after, frames, events, camera = run("domino-chain", Intent(verb="release", target="domino-1"), 1.5)
    plan = TurnPlan(narration="The first domino falls and the chain topples.", events=events)
    assert reconcile(before, after, plan, camera, frames).disagreement is None


@pytest.mark.parametrize("scene,intent", [
    ("ball-off-table", Intent(verb="push", target="ball", direction="toward")),
    ("tower-knockover", Intent(verb="spawn", shape="sphere", noun="rubber ball", target="block-4", direction="at")),
    ("bowling", Intent(verb="push", target="ball", direction="at", place="pin-5", strength="hard")),
    ("domino-chain", Intent(verb="release", target="domino-1")),
    ("box-drop", Intent(verb="lighter", target="mug")),
])
def test_the_outcome_sentence_never_contradicts_its_own_outcome(scene, intent):
    before, after, frames, events, camera = run(scene, intent, 2.0)
    out = compute_outcome(before, after, camera, frames)
    assert out.changed and contradictions(out.sentence, before, after, out, camera) == []


def test_left_is_left_on_the_rendered_screen_in_two_camera_frames():
    from renderer.geometry import GeometryRenderer

    for name, target in (("ball-off-table", "ball"), ("bowling", "pin-5")):
        scene = load_scene(SCENES / f"{name}.yaml")
        w = World(scene)
        with GeometryRenderer(scene, preset="fast") as renderer:
            x0 = _column(renderer, w, target)
            w.apply(compile_intent(w.state(), scene.camera, Intent(verb="push", target=target, direction="left",
                                                                    strength="gentle")).events)
            w.advance(0.25, 24)
            assert _column(renderer, w, target) < x0 - 2, f"{name}: pushing {target} left did not move it left on screen"


def _column(renderer, w: World, target: str) -> float:
    """The mean pixel column of `target` in a segmentation render."""
    frame = renderer.render(w, segmentation=True)
    mask = frame.segmentation == frame.labels.index(target)
    assert mask.any(), f"{target} is not on screen"
    return float(np.nonzero(mask)[1].mean())
