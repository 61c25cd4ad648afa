"""Single-writer sessions: one driver at a time, a clear error for the second, --take-over, a closed
driver that can never commit, and kill -9 inside simulate and inside the commit write; on SQLite
and on Postgres (the `db_target` fixture)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from agent.turns.replay import replay
from agent.turns.sessions import Session, SessionBusy, SessionDB, SessionLost
from simulator.loader import load_scene
from tests._sessions_util import ROOT, SCENE_PATH, req


@pytest.fixture
def db(db_target):
    with SessionDB(db_target) as database:
        database.create("s", load_scene(SCENE_PATH), str(SCENE_PATH))
        yield database


def _env(tmp_path):
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "CALLOSUM_HOME": str(tmp_path),
            "COLUMNS": "200"}


def _interact(tmp_path, target, *args):
    return subprocess.Popen([sys.executable, "-m", "agent", "interact", *args, "--db", target, "--planner", "scripted",
                             "--duration", "0.25"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=_env(tmp_path))


def _wait_for_step(target, name: str, step: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "://" in target or os.path.exists(target):
            with SessionDB(target, create=False) as d:
                if d.exists(name) and d.head(name).values.get("step") == step and d.head(name).next == ("observe",):
                    return
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached step {step}")


# ---- in-process drivers ------------------------------------------------------------------------


def test_a_second_driver_is_refused_and_told_who_drives(db):
    with Session(db, "s", driver="callosum interact"):
        with pytest.raises(SessionBusy) as info:
            Session(db, "s", driver="callosum serve")
        text = str(info.value)
        assert f"driven by callosum interact (pid {os.getpid()}" in text and " since 20" in text
        assert "--take-over" in text and "spectator" in text
        with pytest.raises(SessionBusy):
            db.rewind("s", 0)  # an admin write while someone drives is refused too
    with Session(db, "s") as again:  # closing released it
        assert again.lease.generation == 2


def test_take_over_stops_the_old_driver_at_its_next_write(db):
    first = Session(db, "s", driver="first")
    first.turn(req("first's turn", duration=0.25))
    second = Session(db, "s", driver="second", take_over=True)
    with pytest.raises(SessionLost, match=r"second \(pid .*\) took it over\); this turn was not saved"):
        first.turn(req("lost turn", duration=0.25))
    with pytest.raises(SessionLost):
        first.rewind(0)
    second.turn(req("second's turn", duration=0.25))
    assert [t.action for t in db.turns("s")] == ["first's turn", "second's turn"]
    first.close()  # releasing a lease that moved on leaves the new driver alone
    second.turn(req("still driving", duration=0.25))
    second.close()
    assert [t.action for t in db.turns("s")] == ["first's turn", "second's turn", "still driving"]


@pytest.mark.parametrize("where", ["simulate", "render", "commit"])
def test_a_closed_drivers_turn_never_commits(db, where):
    """DELETE during a long turn, then reopen: the old driver's turn must never land."""
    arrived, go = threading.Event(), threading.Event()

    def hold(node, _state):
        if node == where:
            arrived.set()
            go.wait(30)

    opened, failure = [], []

    def drive():  # like a served session's render thread: its GL context lives on this thread
        old = Session(db, "s", on_node=hold, driver="old server session")
        opened.append(old)
        try:
            old.turn(req("slow turn", duration=0.25))
        except BaseException as exc:  # noqa: BLE001 (the test reads it)
            failure.append(exc)
        finally:
            old.episode.close()

    worker = threading.Thread(target=drive)
    worker.start()
    assert arrived.wait(30)
    opened[0].release()  # what ServedSession.close does, even when its thread does not stop in time
    with Session(db, "s", driver="reopened") as new:
        new.turn(req("reopened turn", duration=0.25))
        go.set()
        worker.join(30)
        assert len(failure) == 1 and isinstance(failure[0], SessionLost), failure
        assert failure[0].__context__ is None or isinstance(failure[0].__context__, SessionLost)
        assert [t.action for t in db.turns("s")] == ["reopened turn"]
        assert new.turn(req("and another", duration=0.25)).step == 1


def test_a_session_that_never_compiled_leaves_no_row(db_target):
    from agent.turns.sessions import SessionError
    from simulator.scene import Scene

    scene = load_scene(SCENE_PATH)
    broken = Scene.model_construct(**{**dict(scene), "entities": [scene.entities[-1].model_copy(update={"mass": 1e-300})]})
    with SessionDB(db_target) as d:
        with pytest.raises(SessionError, match="does not compile in MuJoCo"):
            d.create("broken", broken)
        assert d.names() == []


def test_damaged_sessions_are_clear_errors_in_show_interact_and_replay(tmp_path, db_target):
    path = db_target
    with SessionDB(path) as d:
        d._register("hollow", load_scene(SCENE_PATH), str(SCENE_PATH), "fast")  # a row without a checkpoint
    for args in (["sessions", "show", "hollow"], ["replay", "hollow"], ["interact", "--session", "hollow"]):
        r = subprocess.run([sys.executable, "-m", "agent", *args, "--db", str(path)], capture_output=True, text=True,
                           cwd=ROOT, env=_env(tmp_path), timeout=60, input=":quit\n")
        assert r.returncode == 1, (args, r.stderr)
        assert "session 'hollow'" in r.stderr and "damaged" in r.stderr and "Traceback" not in r.stderr, args
    r = subprocess.run([sys.executable, "-m", "agent", "sessions", "list", "--db", str(path)], capture_output=True,
                       text=True, cwd=ROOT, env=_env(tmp_path), timeout=60)
    assert r.returncode == 0 and "damaged" in r.stdout


# ---- two real drivers ------------------------------------------------------------------------


def test_two_interacts_never_interleave(tmp_path, db_target):
    a = _interact(tmp_path, db_target, str(SCENE_PATH), "--session", "both")
    try:
        a.stdin.write("a one\na two\n")
        a.stdin.flush()
        _wait_for_step(db_target, "both", 2)
        b = subprocess.run([sys.executable, "-m", "agent", "interact", "--session", "both", "--planner", "scripted",
                            "--db", db_target],
                           input="b refused\n:quit\n", capture_output=True, text=True, cwd=ROOT,
                           env=_env(tmp_path), timeout=90)
        assert b.returncode == 1 and f"driven by callosum interact (pid {a.pid} on" in b.stderr, b.stderr
        b = subprocess.run([sys.executable, "-m", "agent", "interact", "--session", "both", "--planner", "scripted",
                            "--duration", "0.25", "--take-over", "--db", db_target], input="b one\n:quit\n", capture_output=True,
                           text=True, cwd=ROOT, env=_env(tmp_path), timeout=90)
        assert b.returncode == 0, b.stdout + b.stderr
        out, _ = a.communicate("a three\n", timeout=90)
        assert a.returncode == 1 and "no longer driven from here" in out, out
    finally:
        if a.poll() is None:
            a.kill()
    with SessionDB(db_target, create=False) as d:
        assert [t.action for t in d.turns("both")] == ["a one", "a two", "b one"]  # a three was refused, loudly


def test_interact_and_server_never_interleave(tmp_path, db_target):
    pytest.importorskip("fastapi")
    from websockets.sync.client import connect

    from tests.server_util import auth, live_server, recv_json

    path = db_target
    with live_server(db=path) as srv:
        sess = srv.create("ball-off-table")
        name = sess["session"]
        with connect(srv.ws_base + sess["ws_url"]) as ws:
            auth(ws, sess["player_token"])
            ws.send('{"type": "action", "action": "served one", "events": [], "duration": 0.25}')
            recv_json(ws, "narration", timeout=60)
            r = subprocess.run([sys.executable, "-m", "agent", "interact", "--session", name, "--db", str(path),
                                "--planner", "scripted"], input="refused\n:quit\n", capture_output=True, text=True,
                               cwd=ROOT, env=_env(tmp_path), timeout=90)
            assert r.returncode == 1 and "driven by callosum serve" in r.stderr, r.stderr
            r = subprocess.run([sys.executable, "-m", "agent", "interact", "--session", name, "--db", str(path),
                                "--planner", "scripted", "--duration", "0.25", "--take-over"],
                               input="interact one\n:quit\n", capture_output=True, text=True, cwd=ROOT,
                               env=_env(tmp_path), timeout=90)
            assert r.returncode == 0, r.stdout + r.stderr
            ws.send('{"type": "action", "action": "served two", "events": [], "duration": 0.25}')
            err = recv_json(ws, "error", timeout=30)
            assert err["code"] == "session_lost" and "no longer driven from here" in err["message"]
        taken = srv.http.post(f"/api/sessions/{name}/open", headers=srv.admin())
        assert taken.status_code == 409  # still listed as open here until closed
        srv.http.delete(f"/api/sessions/{name}", headers=srv.admin())
        again = srv.http.post(f"/api/sessions/{name}/open", headers=srv.admin())
        assert again.status_code == 201 or again.status_code == 200, again.text
    with SessionDB(path, create=False) as d:
        assert [t.action for t in d.turns(name)] == ["served one", "interact one"]


def test_the_server_refuses_a_session_interact_drives_unless_told_to_take_over(tmp_path, db_target):
    pytest.importorskip("fastapi")
    from tests.server_util import live_server

    path = db_target
    with SessionDB(path) as d:
        d.create("held", load_scene(SCENE_PATH), str(SCENE_PATH))
    proc = _interact(tmp_path, path, "--session", "held")
    try:
        proc.stdin.write("held one\n")
        proc.stdin.flush()
        _wait_for_step(path, "held", 1)
        with live_server(db=path) as srv:
            r = srv.http.post("/api/sessions/held/open", headers=srv.admin())
            assert r.status_code == 409 and r.json()["error"]["code"] == "driven"
            assert f"callosum interact (pid {proc.pid}" in r.json()["error"]["message"]
            r = srv.http.post("/api/sessions/held/open?take_over=true", headers=srv.admin())
            assert r.status_code == 200, r.text
            out, _ = proc.communicate("held two\n", timeout=90)
            assert proc.returncode == 1 and "no longer driven from here" in out, out
    finally:
        if proc.poll() is None:
            proc.kill()
    with SessionDB(path, create=False) as d:
        assert [t.action for t in d.turns("held")] == ["held one"]


# ---- kill -9 inside simulate and inside the commit -----------------------------------------------

DRIVER = r"""
import os, signal, sys
from agent.turns.sessions import Session, SessionDB
from agent.turns.turn import TurnRequest
from simulator.world import World

db_path, where = sys.argv[1], sys.argv[2]
armed = {"turn": False, "write": False}
db = SessionDB(db_path)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def hook(node, state):
    if armed["turn"] and node == where:
        die()
    if armed["turn"] and where == "commit-write" and node == "commit":
        armed["write"] = True

integrate = World._integrate
calls = {"n": 0}
def counting(self, n):
    integrate(self, n)
    if armed["turn"] and where == "mid-simulate":
        calls["n"] += 1
        if calls["n"] == 5:
            die()
World._integrate = counting

def before_commit(kind):
    if armed["write"] and kind == "checkpoint":
        die()  # inside the commit checkpoint's transaction: written, not committed

session = Session(db, "k", on_node=hook, driver="killer")
db.saver.before_commit = before_commit
session.turn(TurnRequest(action="kept", duration=0.25))
armed["turn"] = True
session.turn(TurnRequest(action="doomed", duration=0.5))
print("not killed")
"""


def _open_after_kill(d, name: str, timeout: float = 5.0):
    """Open `name` after its driver was killed: at once on SQLite (its pid is gone); on Postgres as soon
    as the server has seen the dead driver's connection close (milliseconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Session(d, name, driver="after the crash")
        except SessionBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("where", ["simulate", "mid-simulate", "commit", "commit-write"])
def test_kill_9_inside_a_turn_loses_only_that_turn(tmp_path, db_target, where):
    path = db_target
    with SessionDB(path) as d:
        d.create("k", load_scene(SCENE_PATH), str(SCENE_PATH))
    r = subprocess.run([sys.executable, "-c", DRIVER, str(path), where], capture_output=True, text=True, cwd=ROOT,
                       env=_env(tmp_path), timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stdout + r.stderr
    if "://" not in path:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    with SessionDB(path, create=False) as d:
        assert [t.action for t in d.turns("k")] == ["kept"]
        with _open_after_kill(d, "k") as s:  # the dead driver's lease is free at once
            assert s.recovered is None or "doomed" in s.recovered
            assert s.state["step"] == 1
            assert s.turn(req("after", duration=0.25)).step == 1
        report = replay(d, "k")
        assert report.identical and len(report.steps) == 2


def test_a_driver_whose_heartbeat_stopped_holds_nothing(db):
    from agent.turns.leases import LEASE_TTL_S

    hung = Session(db, "s", driver="hung")
    db.leases.age("s", LEASE_TTL_S + 1)  # as if its heartbeat had stopped a while ago (a frozen process, a lost host)
    with Session(db, "s", driver="next") as after:  # no --take-over needed
        after.turn(req("after the hang", duration=0.25))
        with pytest.raises(SessionLost):
            hung.turn(req("from the hung driver", duration=0.25))
    hung.close()
    assert [t.action for t in db.turns("s")] == ["after the hang"]


def test_readers_never_see_a_damaged_session_while_another_process_drives(tmp_path, db_target):
    path = db_target
    with SessionDB(path) as d:
        d.create("r", load_scene(SCENE_PATH), str(SCENE_PATH))
    proc = _interact(tmp_path, path, "--session", "r")
    proc.stdin.write("".join(f"turn {i}\n" for i in range(10)) + ":quit\n")
    proc.stdin.flush()
    reads, steps = 0, set()
    while proc.poll() is None:
        with SessionDB(path, create=False) as d:  # what `sessions show` and `list` do meanwhile
            steps.add(len(d.chain("r")) - 1)
            reads += 1
    proc.communicate(timeout=60)
    assert proc.returncode == 0 and reads > 5 and len(steps) > 2
    with SessionDB(path, create=False) as d:
        assert [t.action for t in d.turns("r")] == [f"turn {i}" for i in range(10)]
