"""The turn graph: observe → plan → validate → simulate → render → commit, on the real SQLite saver."""

import hashlib
import sqlite3

import pytest

from agent.graph import plan_problems
from agent.plan import TurnPlan
from agent.sessions import Session, SessionDB, SessionError
from simulator.world import World
from tests._sessions_util import KICK, scene


class ListPlanner:
    """A planner backend that answers from a list (the LLM's place in the graph, without a model)."""

    def __init__(self, plans):
        self.plans = list(plans)
        self.calls = []

    def plan_turn(self, state, action, history):
        self.calls.append((action, list(history)))
        plan = self.plans.pop(0)

        class Outcome:
            pass

        out = Outcome()
        out.plan, out.record = plan, {"raw": plan.model_dump(mode="json")}
        return out


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
        state = s.turn("flick", events=KICK, duration=0.25)
        turn = state["last_turn"]
        assert state["step"] == 1 and turn["step"] == 0
        assert turn["plan"]["events"][0]["entity"] == "ball"
        assert hashlib.sha256(state["snapshot"]).hexdigest() == turn["snapshot_sha"] == state["snapshot_sha"]
        manifest = db.store.get_json(turn["segment"])
        assert len(manifest["frames"]) == turn["frames"] == 6
        assert db.store.get_png(manifest["frames"][-1]).shape == (240, 320, 3)
        assert db.store.path(manifest["mp4"]).stat().st_size > 0
        world = World(s.scene)
        world.restore(state["snapshot"])
        assert world.state().entities["ball"].velocity[0] > 1.0
        assert s.ctx.timings and {n for n, _ in s.ctx.timings} >= {"plan", "validate", "simulate", "render", "commit"}


def test_no_pixels_in_checkpoints(db):
    with Session(db, "t") as s:
        for _ in range(3):
            s.turn("wait", duration=0.5)
    sizes = [len(r[0]) for r in sqlite3.connect(db.path).execute("SELECT checkpoint FROM checkpoints")]
    assert max(sizes) < 40_000, sizes  # one 320x240 frame alone is 230 kB


def test_rejected_pinned_events_commit_nothing(db):
    with Session(db, "t") as s:
        before = s.state["snapshot_sha"]
        state = s.turn("kick", events=[{"type": "apply_impulse", "entity": "ghost", "impulse": [1, 0, 0]}])
        assert "ghost" in state["error"] and state["step"] == 0 and state["snapshot_sha"] == before
        assert s.turn("wait", duration=0.25)["step"] == 1  # the session goes on


def test_validate_loops_back_to_plan_with_feedback(db):
    planner = ListPlanner([BAD, GOOD])
    with Session(db, "t", planner=planner) as s:
        state = s.turn("flick the ball", duration=0.25)
    assert len(planner.calls) == 2
    assert "ghost" in planner.calls[1][0]  # the feedback reached the second attempt
    assert state["last_turn"]["plan"]["events"] == [dict(KICK[0])]
    assert state["last_turn"]["plan_record"]["raw"]["narration"] == "the ball is flicked"


def test_validate_loop_is_bounded_and_drops_events(db):
    planner = ListPlanner([BAD, BAD, BAD, GOOD])
    with Session(db, "t", planner=planner) as s:
        state = s.turn("kick the ghost", duration=0.25)
    assert len(planner.calls) == 3
    turn = state["last_turn"]
    assert turn["plan"]["events"] == [] and turn["plan"]["narration"] == "kick a ghost"
    assert turn["problems"][-1] == "events dropped after the last attempt"


def test_planner_gets_recent_narration(db):
    planner = ListPlanner([GOOD, TurnPlan(narration="it rolls")])
    with Session(db, "t", planner=planner) as s:
        s.turn("flick", duration=0.25)
        s.turn("watch", duration=0.25)
    assert planner.calls[1][1] == ["the ball is flicked"]


def test_plan_problems_uses_world_check():
    world = World(scene())
    assert plan_problems(world, GOOD.model_dump(mode="json")) == []
    assert any("ghost" in p for p in plan_problems(world, BAD.model_dump(mode="json")))


def test_bad_turn_request_is_named(db):
    with Session(db, "t") as s:
        with pytest.raises(SessionError, match="duration"):
            s.turn("wait", duration=-1)
