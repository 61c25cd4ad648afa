"""`callosum interact` in a real terminal (a pty) and through a pipe: short turn lines, paths only on
request, Ctrl-C stops a running turn with nothing kept and a second Ctrl-C leaves, and the scene's
scripted steps are offered and played with :next."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import pytest

from agent.turns.sessions import SessionDB
from tests.conftest import ROOT, SCENES

SCENE = SCENES / "ball-off-table.yaml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")


def env(tmp_path) -> dict:
    return {**os.environ, "CALLOSUM_HOME": str(tmp_path), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
            "TERM": "xterm-256color", "COLUMNS": "160"}


def _controlling_tty() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, so a typed
    Ctrl-C reaches it as SIGINT, as in a shell."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`callosum interact` on a pseudo-terminal: what a user's shell gives it."""

    def __init__(self, tmp_path, *args: str):
        import pty

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "agent", "interact", *args], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=ROOT, env=env(tmp_path), preexec_fn=_controlling_tty)
        os.close(slave)
        self.seen = ""

    def read_until(self, pattern: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.seen)
            if found:
                out, self.seen = self.seen[: found.end()], self.seen[found.end():]
                return out
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    break
                self.seen += ANSI.sub("", chunk.decode("utf-8", "replace")).replace("\r", "")
        raise AssertionError(f"never saw {pattern!r}; got:\n{self.seen[-3000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def ctrl_c_at_prompt(self, expect: str) -> str:
        """Ctrl-C at a prompt just drawn, then read until `expect`. CPython's readline draws the prompt
        and only then waits on the terminal: a SIGINT in between is noted but wakes nothing until the
        next key. A person never types within that instant; a test on a loaded machine can, so it
        waits a moment first and, should the signal still be waiting, wakes readline with an empty line
        (an empty line changes nothing)."""
        time.sleep(0.3)
        self.type("\x03")
        try:
            return self.read_until(expect, timeout=5.0)
        except AssertionError:
            self.type("\n")
            return self.read_until(expect)

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)


@pytest.fixture
def term(tmp_path):
    made = []

    def start(*args):
        made.append(Terminal(tmp_path, *args))
        return made[-1]

    yield start
    for t in made:
        if t.proc.poll() is None:
            t.proc.kill()


def test_ctrl_c_stops_a_running_turn_and_keeps_nothing_then_a_second_ctrl_c_leaves(term, tmp_path):
    t = term(str(SCENE), "--session", "ctl", "--planner", "scripted", "--duration", "0.25")
    t.read_until(r"\[ctl 0\]> ")
    t.type("the ball waits\n")
    t.read_until(r"turn 1: the ball waits \(\d+\.\d s\)")
    t.read_until(r"\[ctl 1\]> ")
    t.type(':do {"action": "a very long wait", "duration": 60}\n')
    t.read_until(r"turn 2 · (simulating|rendering)")  # the spinner names the turn and its stage
    t.type("\x03")  # Ctrl-C, as the keyboard sends it
    out = t.read_until(r"\[ctl 1\]> ", timeout=60)
    assert "turn 2 stopped: nothing of it was kept, the session is at step 1 (Ctrl-C again to leave)" in out
    t.ctrl_c_at_prompt("bye")
    assert t.close() == 0
    with SessionDB(tmp_path / "sessions.db", create=False) as db:
        assert [x.action for x in db.turns("ctl")] == ["the ball waits"]
        assert db.head("ctl").values["step"] == 1 and db.head("ctl").next == ("observe",)


def test_one_ctrl_c_at_the_prompt_only_warns(term):
    t = term(str(SCENE), "--session", "warn", "--planner", "scripted", "--duration", "0.25")
    t.read_until(r"\[warn 0\]> ")
    t.ctrl_c_at_prompt(r"Ctrl-C again, Ctrl-D or :quit to leave")
    t.type(":steps\n")
    t.read_until(r"next\s+1\. “The ball sits still on the table\.”")
    t.read_until(r"\[warn 0\]> ")
    t.ctrl_c_at_prompt("leave")
    t.read_until(r"\[warn 0\]> ")
    t.ctrl_c_at_prompt("bye")
    assert t.close() == 0


def test_turn_lines_are_short_and_paths_come_on_request(tmp_path):
    script = "the ball waits\n:files\n:next\n:steps\n:quit\n"
    proc = subprocess.run([sys.executable, "-m", "agent", "interact", str(SCENE), "--session", "short", "--planner",
                           "scripted", "--duration", "0.25"], input=script, capture_output=True, text=True, cwd=ROOT,
                          env=env(tmp_path), timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "this scene has 2 scripted steps; :next plays step 1/2: “The ball sits still on the table.”" in out
    turn_line = re.search(r"^.*turn 1: the ball waits \((\d+\.\d) s\)$", out, re.M)
    assert turn_line and len(turn_line.group(0)) < 80
    assert "sessions.db.store" not in out.split("turn 1: 6 frames")[0]  # no paths until asked
    files = out.split("turn 1: 6 frames")[1]
    assert re.search(r"video\s+\S+\.mp4", files) and re.search(r"states\s+\S+\.jsonl", files)
    assert "scripted step 1/2" in out and "turn 2: " in out
    assert re.search(r"played 1\. “The ball sits still on the table\.”", out)
    assert re.search(r"next\s+2\. “Someone flicks the ball toward the edge\.”", out)
    with SessionDB(tmp_path / "sessions.db", create=False) as db:
        turns = db.turns("short")
    assert [x.action for x in turns] == ["the ball waits", "The ball sits still on the table."]
    assert turns[1].duration == 0.5  # the scripted step's own duration, not --duration


def test_new_builds_a_world_from_words_and_switches_to_it(tmp_path):
    script = ":new a unicorn\n:new two red balls on a wooden table\n:state\n:next\n:quit\n"
    proc = subprocess.run([sys.executable, "-m", "agent", "interact", str(SCENE), "--session", "old", "--planner",
                           "scripted", "--duration", "0.25"], input=script, capture_output=True, text=True, cwd=tmp_path,
                          env=env(tmp_path), timeout=180)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "unicorn" in out and "not in the catalogue" in out  # refused, still in the old session
    assert "built 2 x ball, table" in out and "now in session two-red-balls-on-wooden-table" in out
    assert re.search(r"ball-1\s+│\s+sphere", out) and "table" in out
    assert (tmp_path / "out" / "two-red-balls-on-wooden-table.yaml").exists()
    with SessionDB(tmp_path / "sessions.db", create=False) as db:
        names = [n for n in db.names() if n.startswith("two-red-balls-on-wooden-table")] if hasattr(db, "names") else []
        assert db.exists("old") and (names or db.exists("two-red-balls-on-wooden-table-1"))
