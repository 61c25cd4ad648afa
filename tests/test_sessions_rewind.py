"""Rewind, undo, fork, replay and export on real sessions, in SQLite and in Postgres (`db_target`)."""

import json

import imageio.v2 as imageio
import pytest

from agent.turns.replay import export, replay
from agent.turns.sessions import Session, SessionDB, SessionError, check_name
from tests._sessions_util import KICK, req, scene


@pytest.fixture
def played(db_target):
    """A session 'a' with three committed turns (the middle one kicks the ball)."""
    db = SessionDB(db_target)
    db.create("a", scene(), "ball-off-table.yaml")
    with Session(db, "a") as s:
        s.turn(req("wait", duration=0.25))
        s.turn(req("flick", events=KICK, duration=0.5))
        s.turn(req("watch", duration=0.25))
    yield db
    db.close()


def test_rewind_and_branch_a_different_future(played):
    db = played
    shas = [t.snapshot_sha for t in db.turns("a")]
    with Session(db, "a") as s:
        s.rewind(1)
        assert s.state["step"] == 1 and s.state["snapshot_sha"] == shas[0]
        s.turn(req("nothing happens", duration=0.5))
        turns = db.turns("a")
        assert [t.action for t in turns] == ["wait", "nothing happens"]
        assert turns[1].snapshot_sha != shas[1]  # no kick this time
        assert s.world_state().entities["ball"].velocity[0] == pytest.approx(0, abs=1e-3)
        s.undo()
        assert s.state["step"] == 1
        s.rewind(0)
        with pytest.raises(SessionError, match="nothing to undo"):
            s.undo()


def test_rewind_index_errors_name_the_range(played):
    with pytest.raises(SessionError, match=r"rewind step 7 is out of range .* choose 0 to 3"):
        played.rewind("a", 7)
    with pytest.raises(SessionError, match="rewind step -1"):
        played.rewind("a", -1)


def test_fork_is_independent_and_self_contained(played):
    db = played
    db.fork("a", "b", 2)
    assert db.info("b").parent == "a" and db.info("b").parent_step == 2
    assert [t.action for t in db.turns("b")] == ["wait", "flick"]
    db.rewind("a", 0)  # the parent moving does not touch the fork
    with Session(db, "b") as s:
        s.turn(req("later", duration=0.25))
    assert [t.action for t in db.turns("b")] == ["wait", "flick", "later"]
    assert db.turns("a") == []
    with pytest.raises(SessionError, match="already exists"):
        db.fork("a", "b")


def test_bad_session_names_are_rejected(played):
    for bad in ("", "Has Space", "../x", "-x", "x" * 65):
        with pytest.raises(SessionError, match="not valid"):
            check_name(bad)
    with pytest.raises(SessionError, match="known sessions: a"):
        played.info("nope")


def test_replay_is_bit_identical(played):
    report = replay(played, "a")
    assert report.identical and report.start_equal
    assert [c.step for c in report.steps] == [0, 1, 2]
    assert all(c.recorded_sha == c.replayed_sha and c.frames_equal for c in report.steps)


def test_replay_detects_a_tampered_recording(played):
    db = played
    head = db.head("a")
    turn = dict(head.values["last_turn"], snapshot_sha="0" * 64)
    db.graph.update_state(head.config, {"last_turn": turn}, as_node="commit")
    report = replay(db, "a")
    assert not report.identical and not report.steps[-1].ok and report.steps[0].ok


def test_export_writes_full_mp4_and_state_jsonl(played, tmp_path):
    out, states = tmp_path / "a.mp4", tmp_path / "a.jsonl"
    frames = export(played, "a", out=out, state_out=states)
    assert frames == 6 + 12 + 6
    assert sum(1 for _ in imageio.get_reader(out)) == frames
    lines = [json.loads(x) for x in states.read_text().splitlines()]
    assert lines[0]["scene"] == "ball-off-table" and lines[0]["fps"] == 24
    plans = [x for x in lines if "plan" in x]
    frames_lines = [x for x in lines[1:] if "entities" in x]
    assert [p["step"] for p in plans] == [0, 1, 2] and plans[1]["plan"]["events"][0]["type"] == "apply_impulse"
    assert len(frames_lines) == frames
    assert set(frames_lines[0]) == {"step", "time", "entities"}
    assert [x["step"] for x in frames_lines[:7]] == [0] * 6 + [1]
