"""Every shipped scene shows its subject in its first frame, and its description names what acts."""

from __future__ import annotations

import re

import pytest

from renderer.geometry import GeometryRenderer
from simulator import load_scene
from simulator.world import World
from tests.conftest import SCENES

SHIPPED = sorted(p.stem for p in SCENES.glob("*.yaml"))


def acted_on(scene) -> set[str]:
    """Entities the scene's steps act on (spawned ones excluded: they appear later by design)."""
    ids = set()
    for step in scene.steps:
        for event in step.events or []:
            entity = getattr(event, "entity", None)
            if isinstance(entity, str):
                ids.add(entity)
    return ids


@pytest.mark.parametrize("name", SHIPPED)
def test_the_first_frame_shows_every_entity_that_moves_or_is_acted_on(name):
    scene = load_scene(SCENES / f"{name}.yaml")
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        frame = renderer.render(world, segmentation=True)
    visible = {label: int((frame.segmentation == i).sum()) for i, label in enumerate(frame.labels)}
    subject = acted_on(scene) | {e.id for e in scene.entities if not e.fixed}
    assert subject, f"{name}: nothing in the scene moves or is acted on"
    hidden = sorted(e for e in subject if visible.get(e, 0) < 4)
    assert not hidden, f"{name}: not visible in the first frame: {hidden}"


@pytest.mark.parametrize("name", SHIPPED)
def test_the_description_names_what_the_steps_act_on(name):
    scene = load_scene(SCENES / f"{name}.yaml")
    text = scene.description.lower()
    assert len(text.split()) >= 8, f"{name}: describe what happens, not just what is there"
    for entity in acted_on(scene) | {e.entity.id for s in scene.steps for e in s.events or []
                                      if getattr(e, "type", "") == "spawn"}:
        words = [w for w in re.split(r"[-_]", entity) if not w.isdigit()]
        assert any(w in text for w in words), f"{name}: the description never mentions {entity!r}"


@pytest.mark.parametrize("name", SHIPPED)
def test_what_the_description_names_first_is_in_the_first_frame(name):
    scene = load_scene(SCENES / f"{name}.yaml")
    text = scene.description.lower()
    spawned = [e.entity for s in scene.steps for e in s.events or [] if getattr(e, "type", "") == "spawn"]
    where = {}
    for entity in [e.id for e in scene.entities] + [e.id for e in spawned]:
        hits = [m.start() for w in re.split(r"[-_]", entity) if not w.isdigit() for m in re.finditer(w, text)]
        if hits:
            where[entity] = min(hits)
    first = min(where.values())
    subject = sorted(e for e, at in where.items() if at == first)
    world = World(scene)
    with GeometryRenderer(scene, preset="fast") as renderer:
        frame = renderer.render(world, segmentation=True)
    shown = {label for i, label in enumerate(frame.labels) if (frame.segmentation == i).sum() >= 4}
    assert set(subject) & shown, f"{name}: the description starts with {subject}, but the first frame does not show it"
