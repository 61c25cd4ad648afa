"""kill -9 mid-turn, damaged/locked/missing databases, and `callosum interact` driven through a pipe."""

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


def _interact(tmp_path, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "interact", *args, "--planner", "scripted", "--duration", "0.25"],
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


def test_kill_9_mid_turn_resumes_at_last_commit(tmp_path):
    proc = _interact(tmp_path, str(SCENE_PATH), "--session", "crash")
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

    with SessionDB(tmp_path / "sessions.db", create=False) as db:
        assert db.head("crash").next != ("observe",)  # the kill did land mid-turn, after a checkpoint
        turns = db.turns("crash")
        assert [t.action for t in turns] == ["wait a moment", "flick"]  # nothing committed was lost
        with Session(db, "crash") as s:
            assert "a long wait" in s.recovered
            assert s.state["step"] == 2 and s.state["snapshot_sha"].startswith(short_sha)
            s.world_state()
            assert hashlib.sha256(s.ctx.world.snapshot()).hexdigest() == turns[-1].snapshot_sha
            assert s.turn(req("after the crash", duration=0.25)).step == 2 and s.state["step"] == 3


def test_interact_through_a_pipe(tmp_path):
    proc = _interact(tmp_path, str(SCENE_PATH), "--session", "piped")
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
    proc = _interact(tmp_path, "--session", "piped")
    out, _ = proc.communicate(":history\n:quit\n", timeout=60)
    assert "session piped (scene ball-off-table) at step 0" in out and proc.returncode == 0


def test_interact_do_takes_a_bare_event_and_rejects_unknown_keys(tmp_path):
    proc = _interact(tmp_path, str(SCENE_PATH), "--session", "pinned")
    spawn = '{"type": "spawn", "entity": {"id": "crate", "shape": "box", "size": [0.2, 0.2, 0.2], "position": [2, 0, 0.5]}}'
    script = f':do {{"typo": 1}}\n:do {spawn}\n:state\n:quit\n'
    out, _ = proc.communicate(script, timeout=90)
    assert proc.returncode == 0, out
    assert ":do got unknown key(s) typo; use action, events and duration" in out
    assert "events: spawn crate (box)" in out and "turn 1: " in out
    assert "│ crate" in out  # the spawned box is in the :state table


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
