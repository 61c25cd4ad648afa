"""Hostile mutations of the shipped scenes, and one runner that checks and plays a mutated file.

Shared by ``tests/test_fuzz_scenes.py`` (Hypothesis picks the mutations) and ``bench/hostile.py``
(a seeded sweep of hundreds). A mutation is a :class:`Mutation` (a kind, a value and a random seed
for where it lands); :func:`mutate` turns one into the bytes of a scene file.

:func:`check_then_play` runs the real ``callosum check`` and, when it passes, ``callosum play``
(typer's in-process runner, so no interpreter start per file) and sorts the result: an exit code
and a message, or a traceback, and whether the written states hold a non-finite number.
"""

from __future__ import annotations

import json
import math
import random
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SCENES

SCENE_FILES = sorted(SCENES.glob("*.yaml"))
HOSTILE_NUMBERS: list[Any] = [
    0, -0.0, -1, 1e-300, 1e-13, 1e-9, 1e-5, 0.004, 0.3, 2.5, 99.9, 150, 1e4, 10001, 1e6, 1e20, 1e308,
    math.inf, -math.inf, math.nan, 2 ** 63, "BIGINT",
]
HOSTILE_VALUES: list[Any] = HOSTILE_NUMBERS + ["text", None, True, [], {}, [1, 2, 3, 4], {"x": 1}]
KINDS = (
    "value", "value", "value", "type", "events_many", "entities_many", "spawn_many", "extreme_event",
    "extreme_spawn", "fixed_release", "drop_key", "unknown_key", "timestep", "render", "duration",
    "gravity", "alias_bomb", "deep", "list_key", "big_int", "truncate", "garbage", "non_utf8", "empty",
    "mass_ratio", "material", "place", "ground",
)
MATERIAL_VALUES: list[Any] = ["rubber", "ice", "gold", "foam", "steel", "jelly", "", None, 3, ["wood"]]


@dataclass(frozen=True)
class Mutation:
    """One hostile change to one shipped scene."""

    scene: int
    """Index into :data:`SCENE_FILES`."""
    kind: str
    """One of :data:`KINDS`."""
    value: Any
    """The hostile value (or count) the mutation uses."""
    seed: int
    """Picks where it lands (which entity, step, field)."""

    def describe(self) -> str:
        return f"{SCENE_FILES[self.scene].stem}/{self.kind}={self.value!r:.40}/seed {self.seed}"


def random_mutation(seed: int) -> Mutation:
    rnd = random.Random(seed)
    kind = rnd.choice(KINDS)
    value = rnd.choice(HOSTILE_VALUES) if kind in ("value", "type") else rnd.choice(HOSTILE_NUMBERS)
    return Mutation(rnd.randrange(len(SCENE_FILES)), kind, value, rnd.randrange(2 ** 31))


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every number in a parsed scene (booleans aside)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, path + (i,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out.append(path)
    return out


def _set(doc: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _free_entity(doc: dict, rnd: random.Random) -> dict:
    free = [e for e in doc["entities"] if not e.get("fixed")] or doc["entities"]
    return rnd.choice(free)


def _dump(doc: dict) -> bytes:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return text.replace("'BIGINT'", "9" * 5000).replace("BIGINT", "9" * 5000).encode()


def mutate(m: Mutation) -> bytes:
    """The mutated scene file's bytes."""
    source = SCENE_FILES[m.scene].read_text(encoding="utf-8")
    doc = yaml.safe_load(source)
    rnd = random.Random(m.seed)
    steps = doc.setdefault("steps", [{"duration": 1.0}])
    step = rnd.choice(steps)
    k = m.kind
    if k == "value":
        _set(doc, rnd.choice(_leaves(doc)), m.value)
    elif k == "type":
        path = rnd.choice(_leaves(doc) + [("name",), ("entities", 0, "shape"), ("entities", 0, "id")])
        _set(doc, path, m.value)
    elif k == "events_many":
        entity = _free_entity(doc, rnd)["id"]
        step["events"] = [{"type": "set_velocity", "entity": entity, "velocity": [0.1, 0, 0]}] * rnd.randint(5, 30)
    elif k == "entities_many":
        base = doc["entities"][-1]
        count = rnd.choice([99, 100, 101, 150, 20000])
        doc["entities"] += [{**base, "id": f"copy-{i}", "position": [rnd.uniform(-40, 40), rnd.uniform(-40, 40),
                                                                       rnd.uniform(0.5, 30)]} for i in range(count)]
    elif k == "spawn_many":
        step["events"] = [{"type": "spawn", "entity": {"id": f"s{i}", "shape": "sphere", "size": [0.05],
                                                       "position": [i * 0.2 - 5, 3, 2]}} for i in range(4)]
        for i in range(30):
            steps.append({"duration": 0.05, "events": [{"type": "spawn", "entity": {
                "id": f"t{i}-{j}", "shape": "box", "size": [0.05, 0.05, 0.05], "position": [j * 0.3, i * 0.3 - 5, 1]}}
                for j in range(4)]})
    elif k == "extreme_event":
        entity = _free_entity(doc, rnd)["id"]
        big = m.value if not isinstance(m.value, str) else 1e20
        step["events"] = [rnd.choice([
            {"type": "apply_impulse", "entity": entity, "impulse": [big, 0, 0]},
            {"type": "apply_force", "entity": entity, "force": [0, 0, big], "duration": 0.5},
            {"type": "set_velocity", "entity": entity, "velocity": [big, big, 0]},
            {"type": "set_property", "entity": entity, "mass": big},
            {"type": "set_property", "entity": entity, "friction": big},
        ])]
    elif k == "extreme_spawn":
        v = m.value if not isinstance(m.value, str) else 1e-13
        spec = {"id": "hostile", "shape": rnd.choice(["box", "sphere", "capsule", "cylinder"]),
                "size": [v, 0.1, 0.1], "position": [2, 2, 1], "mass": v}
        if spec["shape"] == "sphere":
            spec["size"] = [v]
        elif spec["shape"] in ("capsule", "cylinder"):
            spec["size"] = [v, 0.2]
        step["events"] = [{"type": "spawn", "entity": spec}]
    elif k == "fixed_release":
        fixed = [e for e in doc["entities"] if e.get("fixed")]
        if fixed:
            step["events"] = [{"type": "set_property", "entity": e["id"], "fixed": False} for e in fixed[:4]]
    elif k == "drop_key":
        target = rnd.choice(doc["entities"])
        target.pop(rnd.choice([k for k in ("shape", "size", "position", "id") if k in target]))
    elif k == "unknown_key":
        rnd.choice([doc, rnd.choice(doc["entities"]), step])[rnd.choice(["colour", "velocty", "x"])] = 1
    elif k == "timestep":
        doc.setdefault("physics", {})["timestep"] = m.value if not isinstance(m.value, str) else 1e-9
    elif k == "render":
        doc["render"] = {"width": rnd.choice([0, 16, 4096, 100000]), "height": rnd.choice([16, 2160, 4096]),
                         "fps": rnd.choice([0, 1, 240, 10000])}
    elif k == "duration":
        step["duration"] = m.value if not isinstance(m.value, str) else 1e9
    elif k == "gravity":
        doc.setdefault("physics", {})["gravity"] = [0, m.value if not isinstance(m.value, str) else 0, -9.81]
    elif k == "mass_ratio":
        a, b = doc["entities"][0], _free_entity(doc, rnd)
        a["mass"], b["mass"] = 1e-4, 1e4
    elif k == "material":
        target = rnd.choice(doc["entities"])
        if rnd.random() < 0.5:
            target.pop("mass", None)
        target[rnd.choice(["material", "bounciness"])] = rnd.choice(MATERIAL_VALUES + [m.value])
        if rnd.random() < 0.3 and "size" in target:  # a composite (parts) has no size of its own
            target["size"] = [rnd.choice([3.0, 10.0, 0.005])] * len(target["size"])
    elif k == "place":
        entity = rnd.choice(doc["entities"])["id"]
        v = m.value if not isinstance(m.value, str) else 1e20
        step["events"] = [{"type": "place", "entity": entity, "position": rnd.choice(
            [[0, 0, v], [v, 0, 1], [0.3, 0.1, 0.9], [0, 0, 0.0], [rnd.uniform(-2, 2), rnd.uniform(-2, 2), 1.0]]),
            "duration": rnd.choice([1.0, v, 0.001]), "lift": rnd.choice([0.1, v, 0.0])}]
    elif k == "ground":
        change = rnd.choice([{"material": rnd.choice(MATERIAL_VALUES)}, {"bounciness": m.value},
                             {"friction": m.value}, {"mass": 1.0}, {"color": "#00ff00"}])
        if rnd.random() < 0.5:
            doc["ground"] = {**doc.get("ground", {}), **change}
        else:
            step["events"] = [{"type": "set_property", "entity": "ground", **change}]
    elif k == "alias_bomb":
        lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        for i, c in enumerate("bcdefghi"):
            lines.append(f"{c}: &{c} [" + ",".join([f"*{'abcdefghi'[i]}"] * 9) + "]")
        return (source + "\n" + "\n".join(lines) + "\n").encode()
    elif k == "deep":
        depth = rnd.choice([40, 1000, 5000])
        return (source + f"\nextra: {'[' * depth}{']' * depth}\n").encode()
    elif k == "list_key":
        return (source + "\n? [a, b]\n: 1\n").encode()
    elif k == "big_int":
        return source.replace("seed: 0", "seed: " + "7" * rnd.choice([25, 5000]), 1).encode()
    elif k == "truncate":
        return source[: rnd.randrange(len(source))].encode()
    elif k == "garbage":
        data = bytearray(source.encode())
        for _ in range(rnd.randint(1, 20)):
            data[rnd.randrange(len(data))] = rnd.randrange(32, 127)
        return bytes(data)
    elif k == "non_utf8":
        return source.encode()[:200] + b"\xff\xfe\xfa" + source.encode()[200:]
    elif k == "empty":
        return b""
    return _dump(doc)


# ---- running a mutated file ------------------------------------------------------------------


@dataclass
class Outcome:
    """What ``check`` and ``play`` did with one file."""

    check_rc: int
    check_out: str
    play_rc: int | None = None
    play_out: str = ""
    tracebacks: list[str] = field(default_factory=list)
    non_finite: str | None = None
    """The first non-finite number in the written states, if any."""
    seconds: float = 0.0

    @property
    def check_ok_play_failed(self) -> bool:
        return self.check_rc == 0 and self.play_rc not in (0, None)

    def problems(self) -> list[str]:
        """What breaks the contract: a traceback, an exit code other than 0 or 2, a silent error, a
        non-finite state, or ``check`` passing a file that ``play`` then fails on."""
        out = [f"traceback: {t.strip().splitlines()[-1]}" for t in self.tracebacks]
        for name, rc, text in (("check", self.check_rc, self.check_out), ("play", self.play_rc, self.play_out)):
            if rc not in (0, 2, None):
                out.append(f"{name} exited {rc}: {text[-300:]}")
            if rc == 2 and "error" not in text:
                out.append(f"{name} exited 2 without an error message: {text[-300:]}")
        if self.non_finite:
            out.append(f"non-finite state: {self.non_finite}")
        if self.check_ok_play_failed:
            out.append(f"check passed, play exited {self.play_rc}: {self.play_out[-300:]}")
        return out


def _invoke(runner, app, args: list[str]) -> tuple[int, str, str | None]:
    result = runner.invoke(app, args, catch_exceptions=True)
    tb = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(type(result.exception), result.exception,
                                                result.exception.__traceback__))
    text = result.output
    if "Traceback (most recent call last)" in text and tb is None:
        tb = text
    return result.exit_code, text, tb


def first_non_finite(jsonl: Path) -> str | None:
    """The first NaN, Infinity or missing (null) number of an entity in a state JSONL file."""
    def bad(name: str):
        raise ValueError(f"{name} in the JSON")

    for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            data = json.loads(line, parse_constant=bad)
        except ValueError as exc:
            return f"line {n + 1}: {exc}"
        for eid, e in (data.get("entities") or {}).items():
            for key in ("position", "orientation", "velocity", "angular_velocity", "mass"):
                values = e.get(key)
                values = values if isinstance(values, list) else [values]
                if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                    return f"line {n + 1}: {eid}.{key} = {e.get(key)}"
    return None


def check_then_play(path: Path, out_dir: Path, *, play: bool = True) -> Outcome:
    """Run ``callosum check PATH`` and, if it passes, ``callosum play PATH`` (scripted planner, fast preset)."""
    from typer.testing import CliRunner

    from agent.cli.main import app

    runner = CliRunner()
    t0 = time.perf_counter()
    rc, text, tb = _invoke(runner, app, ["check", str(path)])
    outcome = Outcome(check_rc=rc, check_out=text, tracebacks=[tb] if tb else [])
    if rc == 0 and play:
        states = out_dir / f"{path.stem}.jsonl"
        rc, text, tb = _invoke(runner, app, ["play", str(path), "--planner", "scripted", "--preset", "fast",
                                             "--out", str(out_dir / f"{path.stem}.mp4"), "--state-out", str(states)])
        outcome.play_rc, outcome.play_out = rc, text
        if tb:
            outcome.tracebacks.append(tb)
        if states.exists():
            outcome.non_finite = first_non_finite(states)
    outcome.seconds = time.perf_counter() - t0
    return outcome
