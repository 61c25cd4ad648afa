"""`callosum new`: a scene intent built into an ordinary scene (laid out, settled, framed) and its YAML."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import yaml

from agent.worlds.intent import SceneIntent
from agent.worlds.layout import Layout, lay_out
from agent.worlds.pieces import Piece, colour_hex
from agent.worlds.settle import settle
from simulator.materials import material as find_material
from simulator.scene import Scene

GROUND_LOOKS = {"floor": ("#b8b2a7", 1.0), "grass": ("#5f8f3e", 0.9), "snow": ("#eef2f6", 0.35),
                "sand": ("#d9c08c", 0.8), "ice": ("#d6ecf5", 0.05), "wood": ("#a0703c", 0.5),
                "concrete": ("#9c9a96", 0.8), "carpet": ("#8b5a5a", 0.9), "dirt": ("#7a5c3a", 0.8)}
SPEEDS = {"push": 1.0, "kick": 4.0, "roll": 1.5, "knock_over": 1.5}
DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "forward": (0.0, -1.0), "back": (0.0, 1.0)}
EXAMPLE = 'callosum new "three red balls on a wooden table next to a crate"'


class NothingToBuild(ValueError):
    """A prompt that names nothing the catalogue knows."""


@dataclass
class Built:
    """A new world: the scene, its YAML, and what was assumed or left to the renderer."""

    scene: Scene
    yaml_text: str
    intent: SceneIntent
    assumptions: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    renderer_only: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    seconds: float = 0.0


def slug(prompt: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", prompt.lower()) if w not in ("a", "an", "the", "of", "and")]
    return "-".join(words[:6])[:60].strip("-") or "new-world"


def _entity(piece: Piece, thing) -> dict:
    x = piece.x
    out: dict = {"id": piece.id, "template": x.template.name}
    changed = {k: round(v, 4) for k, v in x.params.items() if abs(v - x.template.params.get(k, v)) > 1e-9}
    if changed:
        out["params"] = changed
    if thing.material:
        out["material"] = thing.material
    if thing.color:
        out["color"] = colour_hex(thing.color)
    if thing.color or thing.noun:
        adjective = "" if thing.noun else find_material(x.material).description
        word = thing.color if thing.color and not thing.color.startswith("#") else ""
        text = " ".join(w for w in (word, adjective, thing.noun or x.template.noun) if w)
        out["description"] = ("an " if text[:1] in "aeiou" else "a ") + text
    out["position"] = [round(v, 4) + 0.0 for v in piece.pos]
    if any(abs(a) > 1e-6 for a in piece.euler):
        out["orientation"] = [round(a, 3) + 0.0 for a in piece.euler]
    if piece.fixed != x.template.fixed:
        out["fixed"] = piece.fixed
    return out


def _description(intent: SceneIntent) -> str:
    text = intent.prompt.strip()
    if intent.renderer_only:
        text += (f" (Shown by the renderer only, not simulated: {', '.join(intent.renderer_only)}.)")
    if intent.lighting != "day":
        text += f" Lighting: {intent.lighting}."
    return text[:3900]


def scene_dict(intent: SceneIntent, layout: Layout, seed: int = 0) -> dict:
    things = {t.ref: t for t in intent.things}
    colour, friction = GROUND_LOOKS[intent.ground]
    return {
        "name": slug(intent.prompt), "description": _description(intent), "seed": seed,
        "camera": {"position": [2.0, -2.0, 1.5], "look_at": [0.0, 0.0, 0.5], "fov": 45.0},
        "render": {"width": 320, "height": 240, "fps": 24},
        "ground": {"color": colour, "friction": friction},
        "lighting": intent.lighting,
        "entities": [_entity(p, things[p.ref]) for p in layout.pieces],
        "steps": [{"action": "The scene is still.", "duration": 1.0, "events": []}],
    }


def _first_action(doc: dict, intent: SceneIntent, layout: Layout) -> list[str]:
    """Turn the first action into a pinned step (a drop holds the thing up until the step)."""
    act = intent.action
    if act is None or act.target not in layout.units:
        return []
    piece = layout.units[act.target].pieces[0]
    entity = next(e for e in doc["entities"] if e["id"] == piece.id)
    if act.verb == "drop":
        entity["position"][2] = round(entity["position"][2] + 0.4, 4)
        entity["fixed"] = True
        events = [{"type": "set_property", "entity": piece.id, "fixed": False}]
        return _step(doc, act, events, f"the {piece.id} is held 40 cm up and let go")
    if piece.fixed:
        return [f"the {piece.id} is fixed in place: the first action was left out"]
    dx, dy = _direction(act, layout, piece)
    speed = SPEEDS[act.verb]
    impulse = [round(piece.x.mass * speed * dx, 4), round(piece.x.mass * speed * dy, 4), 0.0]
    return _step(doc, act, [{"type": "apply_impulse", "entity": piece.id, "impulse": impulse}],
                 f"{act.verb.replace('_', ' ')} at {speed:g} m/s")


def _direction(act, layout: Layout, piece: Piece) -> tuple[float, float]:
    if act.toward and act.toward in layout.units:
        other = layout.units[act.toward].pieces
        tx = sum(p.pos[0] for p in other) / len(other)
        ty = sum(p.pos[1] for p in other) / len(other)
        dx, dy = tx - piece.pos[0], ty - piece.pos[1]
        n = math.hypot(dx, dy) or 1.0
        return dx / n, dy / n
    return DIRECTIONS.get(act.direction or "right", (1.0, 0.0))


def _step(doc: dict, act, events: list[dict], how: str) -> list[str]:
    words = act.words or act.verb
    doc["steps"] = [{"action": "The scene is still.", "duration": 0.5, "events": []},
                    {"action": words[:1].upper() + words[1:] + ".", "duration": 2.0, "events": events}]
    return [f"first action: {how}"]


def build(intent: SceneIntent, seed: int = 0, frame_camera: bool = True) -> Built:
    """Lay out, settle, frame and write `intent` as a scene."""
    t0 = time.perf_counter()
    if not intent.things:
        raise NothingToBuild(_nothing_message(intent))
    layout = lay_out(intent)
    doc = scene_dict(intent, layout, seed)
    poses, moved, moving = settle(Scene.model_validate(doc))
    for e in doc["entities"]:
        if e["id"] in poses:
            pos, euler = poses[e["id"]]
            e["position"] = list(pos)
            if any(abs(a) > 0.05 for a in euler):
                e["orientation"] = list(euler)
            else:
                e.pop("orientation", None)
    notes = list(intent.assumptions) + layout.assumptions
    notes += [f"the {eid} was still moving after settling" for eid in moving]
    notes += _first_action(doc, intent, layout)
    hidden: list[str] = []
    if frame_camera:
        hidden = _frame(doc, intent, layout)
    scene = Scene.model_validate(doc)
    text = _yaml(doc, intent)
    return Built(scene=scene, yaml_text=text, intent=intent, assumptions=notes, settled=moved,
                 renderer_only=list(intent.renderer_only), hidden=hidden, seconds=time.perf_counter() - t0)


def _frame(doc: dict, intent: SceneIntent, layout: Layout) -> list[str]:
    from agent.worlds.framing import frame

    named = [p.id for p in layout.pieces]
    subject_ref = intent.action.target if intent.action and intent.action.target in layout.units else intent.things[0].ref
    camera, hidden = frame(Scene.model_validate(doc), named, layout.units[subject_ref].pieces[0].id)
    doc["camera"] = camera.model_dump(mode="json")
    return hidden


def _nothing_message(intent: SceneIntent) -> str:
    unknown = f" ({', '.join(intent.unknown)} {'is' if len(intent.unknown) == 1 else 'are'} not in the catalogue)" \
        if intent.unknown else ""
    only = f"; {', '.join(intent.renderer_only)} can only be shown by the renderer" if intent.renderer_only else ""
    return (f"nothing in {intent.prompt!r} can be built{unknown}{only}. Name things from the catalogue "
            f"(`callosum new --list` shows them), e.g.: {EXAMPLE}")


def _yaml(doc: dict, intent: SceneIntent) -> str:
    head = f"# Built by `callosum new` from: {intent.prompt.strip()[:200]}\n# Edit freely; `callosum check` it.\n"
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)
    return head + body
