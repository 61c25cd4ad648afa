"""Leases across machines, on a real Postgres: a frozen driver's lease lapses after its TTL by the
database's clock and another process takes the session over; the frozen driver's next commit then
fails (generation check); local clocks play no part; a holder is named by host, pid and instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from agent.turns.sessions import Session, SessionBusy, SessionDB, SessionLost
from simulator.loader import load_scene
from tests._sessions_util import ROOT, SCENE_PATH, req

pytest.importorskip("psycopg")


@pytest.fixture
def pg_url(postgres_base):
    from tests.pg_util import fresh_database

    url = fresh_database(postgres_base)
    with SessionDB(url) as db:
        db.create("s", load_scene(SCENE_PATH), str(SCENE_PATH))
    return url


def _wait_for_step(url: str, step: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with SessionDB(url, create=False) as d:
        while time.monotonic() < deadline:
            if d.head("s").values.get("step") == step and d.head("s").next == ("observe",):
                return
            time.sleep(0.1)
    raise AssertionError(f"never reached step {step}")


def test_a_frozen_driver_loses_its_lease_after_the_ttl_and_cannot_commit_after(tmp_path, pg_url):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "CALLOSUM_HOME": str(tmp_path),
           "CALLOSUM_LEASE_TTL_S": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "interact", "--session", "s", "--db", pg_url,
                             "--planner", "scripted", "--duration", "0.25"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    try:
        proc.stdin.write("before the freeze\n")
        proc.stdin.flush()
        _wait_for_step(pg_url, 1)
        os.kill(proc.pid, signal.SIGSTOP)  # frozen: its connection stays open, its heartbeat stops
        frozen_at = time.monotonic()
        with SessionDB(pg_url, create=False) as db:
            with pytest.raises(SessionBusy, match=rf"pid {proc.pid} on "):
                Session(db, "s", driver="too early")
            while True:
                try:
                    after = Session(db, "s", driver="after the ttl")
                    break
                except SessionBusy:
                    assert time.monotonic() - frozen_at < 10, "the frozen driver's lease never lapsed"
                    time.sleep(0.1)
            waited = time.monotonic() - frozen_at
            assert 1.0 < waited < 2.0 + 2.0, waited  # its TTL (2 s) after its last heartbeat
            with after:
                after.turn(req("after the freeze", duration=0.25))
            os.kill(proc.pid, signal.SIGCONT)
            out, _ = proc.communicate("stale turn\n", timeout=90)
            assert proc.returncode == 1 and "no longer driven from here" in out, out
            assert [t.action for t in db.turns("s")] == ["before the freeze", "after the freeze"]
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()


def test_local_clocks_play_no_part(pg_url, monkeypatch):
    real = time.time
    with SessionDB(pg_url) as a, SessionDB(pg_url) as b:  # two stores: two "processes" (own connections)
        monkeypatch.setattr(time, "time", lambda: real() + 3600)  # the holder's clock runs an hour ahead
        held = Session(a, "s", driver="fast clock")
        monkeypatch.setattr(time, "time", lambda: real() - 3600)  # the other's an hour behind
        with pytest.raises(SessionBusy):
            Session(b, "s", driver="slow clock")
        monkeypatch.setattr(time, "time", lambda: real() + 86400)  # nor a day ahead
        with pytest.raises(SessionBusy):
            Session(b, "s", driver="slow clock")
        monkeypatch.setattr(time, "time", real)
        held.close()
        with Session(b, "s", driver="next") as s:
            assert s.lease.generation == 2


def test_a_holder_is_named_by_host_pid_and_instance(pg_url):
    import socket

    from agent.turns.leases import INSTANCE

    with SessionDB(pg_url) as db, Session(db, "s", driver="me"):
        row = db.backend.query("SELECT host, pid, instance, backend_pid > 0 FROM callosum_leases WHERE name = ?", ("s",))
        assert row == [(socket.gethostname(), os.getpid(), INSTANCE, True)]
        with pytest.raises(SessionBusy, match=rf"driven by me \(pid {os.getpid()} on {socket.gethostname()}\)"):
            Session(db, "s")


def test_a_take_over_waits_for_the_commit_in_flight(pg_url):
    """A take-over waits for an in-flight guarded write (the lease row is locked FOR UPDATE) and then
    wins: the old driver's commit landed whole, and its next write is refused."""
    import threading

    with SessionDB(pg_url) as a, SessionDB(pg_url) as b:
        armed, entered, go, again = (threading.Event() for _ in range(4))
        failures: list[BaseException] = []

        def slow_commit(kind):  # inside the commit node's checkpoint write, before its transaction commits
            if armed.is_set() and kind == "checkpoint":
                armed.clear()
                entered.set()
                go.wait(10)

        def drive():  # the old driver, on its own thread (its GL context lives there)
            old = Session(a, "s", driver="old", on_node=lambda node, _s: node == "commit" and armed.set())
            try:
                old.turn(req("in flight", duration=0.25))
                again.wait(30)
                old.turn(req("stale", duration=0.25))
            except BaseException as exc:  # noqa: BLE001 (the test reads it)
                failures.append(exc)
            finally:
                old.close()

        a.saver.before_commit = slow_commit
        t = threading.Thread(target=drive)
        t.start()
        assert entered.wait(60)
        took = []
        taker = threading.Thread(target=lambda: took.append(b.leases.acquire("s", "new", take_over=True)))
        taker.start()
        time.sleep(0.5)
        assert not took  # blocked on the lease row until the old write commits
        go.set()
        taker.join(30)
        again.set()
        t.join(60)
        assert len(failures) == 1 and isinstance(failures[0], SessionLost), failures
        assert took[0].generation == 2
        with Session(b, "s", driver="new", take_over=True) as new:
            new.turn(req("new", duration=0.25))
        assert [x.action for x in b.turns("s")] == ["in flight", "new"]
