"""The turn graph: observe → plan → validate → simulate → render → commit, on the real SQLite saver."""

import hashlib
import sqlite3

import pytest

from pydantic import ValidationError

from agent.planner.backends import make_backend
from agent.planner.backends.base import Backend, Completion, PlanRequest
from agent.planner.formats.plan import TurnPlan
from agent.planner import PlannedTurn, Planner, PlanRecord
from agent.turns.episode import TurnRejected
from agent.turns.graph import plan_problems
from agent.turns.sessions import Session, SessionDB
from simulator.world import World
from tests._sessions_util import KICK, req, scene


class ListPlanner:
    """A planner backend that answers from a list (the LLM's place in the graph, without a model)."""

    def __init__(self, plans):
        self.plans = list(plans)
        self.calls = []

    def plan_turn(self, state, action, history, camera=None, imagination=None):
        self.calls.append((action, list(history)))
        plan = self.plans.pop(0)

        return PlannedTurn(plan=plan, record=PlanRecord(action=action, plan=plan))


BAD = TurnPlan(narration="kick a ghost", events=[{"type": "apply_impulse", "entity": "ghost", "impulse": [1, 0, 0]}])
GOOD = TurnPlan(narration="the ball is flicked", events=KICK)


@pytest.fixture
def db(tmp_path):
    d = SessionDB(tmp_path / "s.db")
    d.create("t", scene(), "ball-off-table.yaml")
    yield d
    d.close()


def test_turn_commits_plan_snapshot_and_frame_refs(db):
    with Session(db, "t") as s:
        turn = s.turn(req("flick", events=KICK, duration=0.25))
        state = s.state
        assert state["step"] == 1 and turn.step == 0 and turn.pinned
        assert turn.plan.events[0].entity == "ball"
        assert hashlib.sha256(state["snapshot"]).hexdigest() == turn.snapshot_sha == state["snapshot_sha"]
        manifest = db.store.get_json(turn.segment)
        assert len(manifest["frames"]) == turn.frames == 6
        assert db.store.get_png(manifest["frames"][-1]).shape == (240, 320, 3)
        assert db.store.path(manifest["mp4"]).stat().st_size > 0
        assert s.episode.trajectory(turn).shape[0] == 6  # the record carries everything a consumer needs
        world = World(s.scene)
        world.restore(state["snapshot"])
        assert world.state().entities["ball"].velocity[0] > 0.8  # kicked to ~1.1 m/s, then 0.25 s of rolling resistance
        assert s.ctx.timings and {n for n, _ in s.ctx.timings} >= {"plan", "validate", "simulate", "render", "commit"}


def test_no_pixels_in_checkpoints(db):
    with Session(db, "t") as s:
        for _ in range(3):
            s.turn(req("wait", duration=0.5))
    sizes = [len(r[0]) for r in sqlite3.connect(db.path).execute("SELECT checkpoint FROM checkpoints")]
    assert max(sizes) < 40_000, sizes  # one 320x240 frame alone is 230 kB


def test_rejected_pinned_events_commit_nothing(db):
    with Session(db, "t") as s:
        before = s.state["snapshot_sha"]
        with pytest.raises(TurnRejected, match="ghost"):
            s.turn(req("kick", events=[{"type": "apply_impulse", "entity": "ghost", "impulse": [1, 0, 0]}]))
        assert s.state["step"] == 0 and s.state["snapshot_sha"] == before
        assert s.turn(req("wait", duration=0.25)).step == 0 and s.state["step"] == 1  # the session goes on


def test_planned_turn_applies_the_planners_plan_and_record(db):
    planner = ListPlanner([GOOD])
    with Session(db, "t", planner=planner) as s:
        turn = s.turn(req("flick the ball", duration=0.25))
        ran = [n for n, _ in s.ctx.timings]
    assert planner.calls == [("flick the ball", [])]
    assert "validate" not in ran and ran.index("plan") < ran.index("simulate") < ran.index("reconcile")
    assert [e.model_dump(mode="json", exclude_none=True) for e in turn.plan.events] == KICK
    assert turn.plan_record.plan.narration == "the ball is flicked" and not turn.pinned


class BadReplies(Backend):
    """A backend whose every reply names an entity that is not there (tests our retry and fallback)."""

    name = model = "bad"

    def __init__(self):
        self.calls = 0

    def complete(self, request: PlanRequest) -> Completion:
        self.calls += 1
        return Completion(text=BAD.model_dump_json(), finish_reason="stop")


def test_retries_happen_once_in_the_planner_and_the_turn_keeps_the_words(db):
    backend = BadReplies()
    with Session(db, "t", planner=Planner(backend, max_retries=2, plan_format="events")) as s:
        turn = s.turn(req("kick the ghost", duration=0.25))
    assert backend.calls == 3  # one loop: 1 + 2 retries, no second loop in the graph
    assert turn.plan.events == [] and turn.plan.narration == "kick a ghost"
    assert any("ghost" in p for p in turn.problems) and "events dropped" in turn.problems[-1]


def test_a_request_with_no_action_never_reaches_the_planner(db):
    planner = ListPlanner([])
    with Session(db, "t", planner=planner) as s:
        s.turn(req("", duration=0.25))
        s.turn(req("nothing to plan", events=[], duration=0.25))
    assert planner.calls == []


def test_planner_gets_recent_narration(db):
    planner = ListPlanner([GOOD, TurnPlan(narration="it rolls")])
    with Session(db, "t", planner=planner) as s:
        s.turn(req("flick", duration=0.25))
        s.turn(req("watch", duration=0.25))
    assert planner.calls[1][1] == ["the ball is flicked"]


def test_plan_problems_uses_the_validator():
    world = World(scene())
    assert plan_problems(world, GOOD) == []
    assert any("ghost" in p for p in plan_problems(world, BAD))


def test_bad_turn_request_is_named():
    with pytest.raises(ValidationError, match="duration"):
        req("wait", duration=-1)


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_the_scene_camera_reaches_the_planner(tmp_path, side):
    """'Left' is left on screen: seen from the other side of the table, the push flips."""
    base = scene()
    cam = base.camera.model_copy(update={"position": (side * 2.0, -side * 2.0, 1.5)})
    d = SessionDB(tmp_path / "cam.db")
    d.create("c", base.model_copy(update={"camera": cam}), "ball-off-table.yaml")
    with Session(d, "c", planner=Planner(make_backend("scripted"), plan_format="intents")) as s:
        turn = s.turn(req("Push the ball to the left.", duration=0.25))
    d.close()
    (push,) = turn.plan.events
    # the camera looks along (-side, +side); screen-left is (-side, -side) in the floor plane
    assert push.entity == "ball" and push.impulse[0] * side < 0 and push.impulse[1] * side < 0


def test_a_turn_serialises_only_in_the_checkpointer_and_reads_no_blob_back(db, monkeypatch):
    """The request, plan and record go from node to node as objects: no model_dump/model_validate of them
    outside LangGraph's serde, and nothing the turn wrote to the blob store is read back during it.
    (The planner's own checker may convert what it is given: calls from inside agent/planner/ are its own.)"""
    import sys
    import threading

    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from pydantic import BaseModel

    from agent.turns.store import BlobStore
    from agent.turns.turn import TurnRecord, TurnRequest

    tracked, inside, outside = (TurnRequest, TurnPlan, TurnRecord), threading.local(), []

    def by_the_turn() -> bool:
        if getattr(inside, "on", False):
            return False
        frame = sys._getframe(2)
        return "/agent/planner/" not in frame.f_code.co_filename

    def serde(name):
        orig = getattr(JsonPlusSerializer, name)

        def method(self, obj):
            inside.on = True
            try:
                return orig(self, obj)
            finally:
                inside.on = False
        monkeypatch.setattr(JsonPlusSerializer, name, method)

    def dump(name):
        orig = getattr(BaseModel, name)

        def method(self, *a, **k):
            if isinstance(self, tracked) and by_the_turn():
                outside.append((type(self).__name__, name))
            return orig(self, *a, **k)
        monkeypatch.setattr(BaseModel, name, method)

    def parse(name):
        orig = getattr(BaseModel, name).__func__

        def method(cls, obj, *a, **k):
            if issubclass(cls, tracked) and by_the_turn():
                outside.append((cls.__name__, name))
            return orig(cls, obj, *a, **k)
        monkeypatch.setattr(BaseModel, name, classmethod(method))

    for name in ("dumps_typed", "loads_typed"):
        serde(name)
    for name in ("model_dump", "model_dump_json"):
        dump(name)
    for name in ("model_validate", "model_validate_json"):
        parse(name)
    reads = []
    for name in ("get", "get_json", "get_array", "get_png", "get_text"):
        monkeypatch.setattr(BlobStore, name, lambda self, *a, _n=name, **k: reads.append(_n))
    class Planned:  # what a planner returns; the record is the planner's own (here a plain dict)
        plan, record, problems = GOOD, {"model": "list"}, []

    class OnePlan:
        def plan_turn(self, state, action, history, camera=None, imagination=None):
            return Planned()

    with Session(db, "t", planner=OnePlan()) as s:
        s.turn(req("flick the ball", duration=0.25))
        turn = s.turn(req("kick", events=KICK, duration=0.25))
        assert outside == [] and reads == []
        values = s.state  # read back from SQLite: the typed values, rebuilt by the serde
    assert isinstance(values["last_turn"], TurnRecord) and values["last_turn"] == turn
    assert isinstance(values["request"], TurnRequest) and isinstance(values["plan"], TurnPlan)
    assert values["plan"].events[0].entity == "ball" and values["request"].pinned
