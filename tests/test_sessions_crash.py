"""kill -9 mid-turn, damaged/locked/missing/unreachable databases, and `callosum interact` driven through a
pipe; on SQLite and on Postgres (the `db_target` fixture)."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from agent.turns.sessions import Session, SessionDB, SessionDBError
from tests._sessions_util import ROOT, SCENE_PATH, req


def _env(tmp_path):
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "CALLOSUM_HOME": str(tmp_path),
            "COLUMNS": "200"}


def _interact(tmp_path, target, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "interact", *args, "--db", target, "--planner", "scripted", "--duration", "0.25"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        env=_env(tmp_path),
    )


def _read_until(proc, needle, timeout=60):
    """Output up to `needle`, read as it comes (progress grows one line without ending it)."""
    import select

    seen = ""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        if needle in seen:
            return seen
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
            if not chunk:
                break
            seen += chunk
    raise AssertionError(f"never saw {needle!r}; output:\n{seen}")


def test_kill_9_mid_turn_resumes_at_last_commit(tmp_path, db_target):
    proc = _interact(tmp_path, db_target, str(SCENE_PATH), "--session", "crash")
    try:
        proc.stdin.write("wait a moment\n")
        proc.stdin.write(':do {"action": "flick", "events": [{"type": "apply_impulse", "entity": "ball", '
                         '"impulse": [0.3, 0, 0]}]}\n')
        proc.stdin.flush()
        _read_until(proc, "turn 2: flick")
        proc.stdin.write(":files\n")
        proc.stdin.flush()
        out = _read_until(proc, "states ")
        short_sha = out.rsplit("snapshot ", 1)[1].split()[0][:12]
        proc.stdin.write(':do {"action": "a long wait", "duration": 30}\n')
        proc.stdin.flush()
        _read_until(proc, "· rendering")
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    with SessionDB(db_target, create=False) as db:
        assert db.head("crash").next != ("observe",)  # the kill did land mid-turn, after a checkpoint
        turns = db.turns("crash")
        assert [t.action for t in turns] == ["wait a moment", "flick"]  # nothing committed was lost
        with _open_after_kill(db, "crash") as s:
            assert "a long wait" in s.recovered
            assert s.state["step"] == 2 and s.state["snapshot_sha"].startswith(short_sha)
            s.world_state()
            assert hashlib.sha256(s.ctx.world.snapshot()).hexdigest() == turns[-1].snapshot_sha
            assert s.turn(req("after the crash", duration=0.25)).step == 2 and s.state["step"] == 3


def test_interact_through_a_pipe(tmp_path, db_target):
    proc = _interact(tmp_path, db_target, str(SCENE_PATH), "--session", "piped")
    out, _ = proc.communicate(":help\nthe ball waits\n:files\n:state\n:rewind 5\n:undo\n:fork piped-b\n:quit\n",
                              timeout=90)
    assert proc.returncode == 0, out
    assert "session piped (scene ball-off-table) at step 0" in out
    assert ":rewind N" in out  # help
    assert "turn 1: the ball waits (" in out and "no events: time passes" in out
    assert "turn 1: 6 frames, t = 0.250 s" in out and ".mp4" in out and "(6 PNG)" in out  # :files
    assert "│ ball" in out and "sphere" in out  # :state table
    assert "rewind step 5 is out of range" in out
    assert "undone: now at step 0, t = 0.000 s; took back turn 1 “the ball waits”" in out
    assert "forked piped-b from piped at step 0" in out
    assert out.rstrip().endswith("bye")
    # resume by name: the session is where :undo left it
    proc = _interact(tmp_path, db_target, "--session", "piped")
    out, _ = proc.communicate(":history\n:quit\n", timeout=60)
    assert "session piped (scene ball-off-table) at step 0" in out and proc.returncode == 0


def test_interact_do_takes_a_bare_event_and_rejects_unknown_keys(tmp_path, db_target):
    proc = _interact(tmp_path, db_target, str(SCENE_PATH), "--session", "pinned")
    spawn = '{"type": "spawn", "entity": {"id": "crate", "shape": "box", "size": [0.2, 0.2, 0.2], "position": [2, 0, 0.5]}}'
    script = f':do {{"typo": 1}}\n:do {spawn}\n:state\n:quit\n'
    out, _ = proc.communicate(script, timeout=90)
    assert proc.returncode == 0, out
    assert ":do got unknown key(s) typo; use action, events and duration" in out
    assert "events: spawn crate (box)" in out and "turn 1: " in out
    assert "│ crate" in out  # the spawned box is in the :state table


def _open_after_kill(db, name: str, timeout: float = 5.0) -> Session:
    """Open `name` after its driver was killed: at once on SQLite (its pid is gone); on Postgres as soon
    as the server has seen the dead driver's connection close (milliseconds)."""
    from agent.turns.sessions import SessionBusy

    deadline = time.monotonic() + timeout
    while True:
        try:
            return Session(db, name)
        except SessionBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_missing_db_is_a_clear_error(tmp_path):
    with pytest.raises(SessionDBError, match="no session database there.*callosum interact"):
        SessionDB(tmp_path / "none.db", create=False)


def test_corrupt_db_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(SessionDBError, match="not a readable session database.*move the file aside"):
        SessionDB(bad)
    r = subprocess.run([sys.executable, "-m", "agent", "sessions", "list", "--db", str(bad)], capture_output=True,
                       text=True, cwd=ROOT, env=_env(tmp_path), timeout=60)
    assert r.returncode == 1 and "not a readable session database" in r.stderr


def test_locked_db_is_a_clear_error(tmp_path):
    path = tmp_path / "s.db"
    SessionDB(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SessionDBError, match="locked by another process"):
            SessionDB(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_url_of_another_scheme_is_an_error_naming_the_supported_ones(tmp_path):
    for url in ("mysql://root@127.0.0.1/db", "postgresql:/postgres@127.0.0.1:5432/postgres", "s3://bucket/x"):
        with pytest.raises(SessionDBError, match=r"is not a supported database URL: use postgresql://.*sqlite:///PATH"):
            SessionDB(url)
        r = subprocess.run([sys.executable, "-m", "agent", "sessions", "list", "--db", url], capture_output=True,
                           text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60)
        assert r.returncode == 1 and "not a supported database URL" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []  # no stray SQLite file named like the URL
    with SessionDB(f"sqlite:///{tmp_path}/x.db") as db:  # the sqlite URL form is a file path
        assert db.names() == [] and (tmp_path / "x.db").exists()


def test_unreachable_postgres_is_a_clear_error(tmp_path):
    pytest.importorskip("psycopg")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    url = f"postgresql://postgres:secret@127.0.0.1:{port}/postgres"
    with pytest.raises(SessionDBError, match=r"cannot reach Postgres .*start it, or check the host, port") as info:
        SessionDB(url)
    assert "secret" not in str(info.value) and ":***@" in str(info.value)


def test_callosum_db_names_the_store_everywhere(tmp_path, postgres_base):
    from tests.pg_util import fresh_database

    url = fresh_database(postgres_base)
    env = {**_env(tmp_path), "CALLOSUM_DB": url}
    r = subprocess.run([sys.executable, "-m", "agent", "interact", str(SCENE_PATH), "--session", "env",
                        "--planner", "scripted", "--duration", "0.25"], input="one turn\n:quit\n",
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "agent", "sessions", "list"], capture_output=True, text=True, cwd=ROOT,
                       env=env, timeout=60)
    assert r.returncode == 0 and "env" in r.stdout, r.stdout + r.stderr
    assert not (tmp_path / "sessions.db").exists()
    with SessionDB(url, create=False) as db:
        assert [t.action for t in db.turns("env")] == ["one turn"]
