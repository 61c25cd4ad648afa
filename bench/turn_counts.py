"""Count what one turn converts and renders: typed-value (de)serialisations, store reads, frames rendered.

    OMP_NUM_THREADS=1 .venv/bin/python bench/turn_counts.py --turns 8
    OMP_NUM_THREADS=1 .venv/bin/python bench/turn_counts.py --root /tmp/old-turn   # another checkout

``engine``: turns through ``Session.turn`` on the SQLite saver (a checkpoint after every node),
counting ``model_dump``/``model_dump_json``/``model_validate``/``model_validate_json`` of the turn's
typed values (TurnRequest, TurnPlan, TurnRecord) and where they happen: in the checkpointer
(LangGraph's serde, where a model is also rebuilt through its constructor) or anywhere else in the
turn; plus blob-store reads. ``served``: one served session over a real socket, counting geometry
renders in the turn's ``render`` node and during playback, with no head pose, with the pose that
shows the scene camera, and with a moved head. ``--root`` imports the code of another checkout (the
old code, for a before/after), with this script's harness.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent.parent
TRACKED = ("TurnRequest", "TurnPlan", "TurnRecord")
KICK = {"type": "apply_impulse", "entity": "ball", "impulse": [0.05, 0.0, 0.0]}
counts: Counter = Counter()
_where = threading.local()


def _place() -> str:
    """Where a conversion happens: in the checkpointer's serde, in the planner's own code, or in the turn."""
    if getattr(_where, "depth", 0) > 0:
        return "checkpoint"
    return "planner" if "/agent/planner/" in sys._getframe(3).f_code.co_filename else "turn"


def _patch_pydantic() -> None:
    from pydantic import BaseModel

    def wrap_method(name: str) -> None:
        orig = getattr(BaseModel, name)

        def method(self, *a, **k):
            if type(self).__name__ in TRACKED:
                counts[(type(self).__name__, "dump", _place())] += 1
            return orig(self, *a, **k)

        setattr(BaseModel, name, method)

    def wrap_classmethod(name: str) -> None:
        orig = getattr(BaseModel, name).__func__

        def method(cls, obj, *a, **k):
            if cls.__name__ in TRACKED and not isinstance(obj, cls):
                counts[(cls.__name__, "parse", _place())] += 1
            return orig(cls, obj, *a, **k)

        setattr(BaseModel, name, classmethod(method))

    for name in ("model_dump", "model_dump_json"):
        wrap_method(name)
    for name in ("model_validate", "model_validate_json"):
        wrap_classmethod(name)
    init = BaseModel.__init__

    def __init__(self, /, **data):  # the serde rebuilds a model as cls(**model_dump())
        if getattr(_where, "depth", 0) > 0 and type(self).__name__ in TRACKED:
            counts[(type(self).__name__, "parse", "checkpoint")] += 1
        init(self, **data)

    BaseModel.__init__ = __init__


def _patch_serde() -> None:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    for name, kind in (("dumps_typed", "checkpoint encodes"), ("loads_typed", "checkpoint decodes")):
        orig = getattr(JsonPlusSerializer, name)

        def method(self, obj, _orig=orig, _kind=kind):
            counts[("serde", _kind, "checkpoint")] += 1
            _where.depth = getattr(_where, "depth", 0) + 1
            try:
                return _orig(self, obj)
            finally:
                _where.depth -= 1

        setattr(JsonPlusSerializer, name, method)


def _patch_store() -> None:
    from agent.turns.store import BlobStore

    for name in ("get", "get_json", "get_array", "get_png", "get_text"):
        if not hasattr(BlobStore, name):
            continue
        orig = getattr(BlobStore, name)

        def method(self, *a, _orig=orig, _name=name, **k):
            if getattr(_where, "store", 0) == 0:  # count the outermost read only
                counts[("store", f"read ({_name})", "turn")] += 1
            _where.store = getattr(_where, "store", 0) + 1
            try:
                return _orig(self, *a, **k)
            finally:
                _where.store -= 1

        setattr(BlobStore, name, method)


def engine(turns: int, duration: float, scene_path: str) -> dict:
    from agent.turns.sessions import Session, SessionDB
    from agent.turns.turn import TurnRequest
    from simulator.loader import load_scene

    scene = load_scene(scene_path)
    with tempfile.TemporaryDirectory() as tmp:
        db = SessionDB(Path(tmp) / "c.db")
        db.create("c", scene, scene_path, "fast")
        with Session(db, "c") as s:
            s.turn(TurnRequest(action="warm up", duration=duration))
            counts.clear()
            for i in range(turns):
                events = [KICK] if i % 2 else None
                s.turn(TurnRequest(action="someone nudges the ball", events=events, duration=duration))
        db.close()
    out = {f"{cls} {op} ({where})": round(n / turns, 2) for (cls, op, where), n in sorted(counts.items())}
    counts.clear()
    return out


def _home_quat(pitch: float, yaw: float = 0.0) -> list[float]:
    """The web page's quatYawPitch: what the desktop page sends for the scene camera's view."""
    cy, sy, cp, sp = math.cos(yaw / 2), math.sin(yaw / 2), math.cos(pitch / 2), math.sin(pitch / 2)
    return [cy * sp, sy * cp, -sy * sp, cy * cp]


def served(duration: float) -> dict:
    import inspect

    from websockets.sync.client import connect

    from renderer.geometry import GeometryRenderer
    from tests.server_util import auth, live_server, recv_frame, recv_json

    phase = {"name": None}
    orig = GeometryRenderer.render

    def render(self, *a, **k):
        if phase["name"]:
            names = {f.function for f in inspect.stack(0)[1:12]}
            where = "render node" if "render" in names and "_play" not in names else (
                "playback" if "_play" in names else "other")
            counts[(phase["name"], where)] += 1
        return orig(self, *a, **k)

    GeometryRenderer.render = render
    flick = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.3, 0, 0]}]
    result = {}
    with live_server() as srv:
        sess = srv.create()
        with connect(srv.ws_base + sess["ws_url"], open_timeout=10) as ws:
            hello = auth(ws, sess["player_token"])
            recv_frame(ws)
            poses = {"no pose": None,
                     "scene-camera pose": {"position": [0, 0, 0], "orientation": _home_quat(hello["home_pitch"]),
                                           "stereo": False},
                     "moved head": {"position": [0.1, 0, 0], "orientation": _home_quat(hello["home_pitch"], 0.3),
                                    "stereo": False}}
            for name, pose in poses.items():
                if pose is not None:
                    ws.send(json.dumps({"type": "pose", **pose}))
                    time.sleep(0.5)
                phase["name"] = name
                key = "text" if "text" in json.dumps(_action_schema(srv)) else "action"
                ws.send(json.dumps({"type": "action", key: "flick", "events": flick, "duration": duration}))
                while True:
                    data = ws.recv(timeout=60)
                    if isinstance(data, bytes):
                        continue
                    msg = json.loads(data)
                    if msg["type"] == "progress" and msg["stage"] in ("done", "failed", "cancelled"):
                        break
                phase["name"] = None
                result[name] = {"render node": counts.pop((name, "render node"), 0),
                                "playback": counts.pop((name, "playback"), 0)}
                recv_json(ws, "state")
    GeometryRenderer.render = orig
    return result


def _action_schema(srv) -> dict:
    return srv.http.get("/api/protocol.json").json()["client_to_server"]["action"]["properties"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(HERE), help="the checkout whose code is counted")
    p.add_argument("--turns", type=int, default=8)
    p.add_argument("--duration", type=float, default=0.5)
    p.add_argument("--skip-served", action="store_true")
    a = p.parse_args()
    sys.path.insert(0, str(Path(a.root).resolve()))
    _patch_pydantic()
    _patch_serde()
    _patch_store()
    scene_path = str(Path(a.root) / "scenes" / "ball-off-table.yaml")
    report = {"root": a.root, "engine per turn": engine(a.turns, a.duration, scene_path)}
    if not a.skip_served:
        report["served turn renders"] = served(a.duration)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
