"""Durable sessions: the turn graph on a SQLite checkpointer, with rewind, fork and recovery.

One SQLite file holds LangGraph's checkpoints (one thread per session) and a small
``callosum_sessions`` table naming each session's scene. Frames live in a blob store next to the
file (``<db>.store/``). A session's *committed* checkpoints are those waiting in ``observe``;
rewinding or recovering makes an earlier one the head again (the abandoned branch stays in the
file), and forking copies one into a new thread.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from agent.turns.episode import COMMITTED, Episode
from agent.turns.graph import build_graph, initial_state
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRecord, TurnRequest
from simulator.scene import Scene
from simulator.state import WorldState
from simulator.world import World

SESSION_SCHEMA_VERSION = 1
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
LOCK_TIMEOUT_S = 2.0


class SessionError(ValueError):
    """A bad session name, step or request; the message names the value and the fix."""


class SessionDBError(RuntimeError):
    """The session database is missing, corrupt or locked."""


def default_db_path() -> Path:
    """``$CALLOSUM_HOME/sessions.db``, else the user data dir (e.g. ~/.local/share/callosum)."""
    home = os.environ.get("CALLOSUM_HOME")
    if home:
        return Path(home) / "sessions.db"
    import platformdirs

    return Path(platformdirs.user_data_dir("callosum", appauthor=False)) / "sessions.db"


def check_name(name: str, field: str = "session name") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SessionError(
            f"{field} {name!r} is not valid: use 1-64 lowercase letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit (e.g. 'kitchen-2')"
        )
    return name


class TimedSaver(SqliteSaver):
    """The SQLite saver, counting the time and bytes of each checkpoint write (for the bench)."""

    def __init__(self, conn):
        super().__init__(conn)
        self.writes: list[tuple[str, float, int]] = []

    def put(self, config, checkpoint, metadata, new_versions):
        t0 = time.perf_counter()
        out = super().put(config, checkpoint, metadata, new_versions)
        size = len(self.serde.dumps_typed(checkpoint)[1]) if self.measure_size else 0
        self.writes.append(("checkpoint", time.perf_counter() - t0, size))
        return out

    def put_writes(self, config, writes, task_id, task_path=""):
        t0 = time.perf_counter()
        super().put_writes(config, writes, task_id, task_path)
        self.writes.append(("writes", time.perf_counter() - t0, 0))

    measure_size = False


@dataclass
class SessionInfo:
    """A row of the session registry."""

    name: str
    scene: Scene
    scene_path: str
    preset: str
    created: float
    parent: str | None
    parent_step: int | None


class SessionDB:
    """The session database: checkpointer, registry and blob store."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path).expanduser()
        if not self.path.exists():
            if not create:
                raise SessionDBError(
                    f"--db {str(self.path)!r}: no session database there; start a session with "
                    f"`callosum interact SCENE`, or pass --db with the right file"
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SessionDBError(f"--db {str(self.path)!r}: cannot create its folder ({exc}); pass another --db")
        try:
            self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=LOCK_TIMEOUT_S)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self.saver = TimedSaver(self.conn)
            self.saver.setup()
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS callosum_sessions (name TEXT PRIMARY KEY, scene_json TEXT NOT NULL, "
                "scene_path TEXT NOT NULL, preset TEXT NOT NULL, created REAL NOT NULL, parent TEXT, "
                "parent_step INTEGER, schema_version INTEGER NOT NULL)"
            )
            self.conn.commit()
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from None
        self.store = BlobStore(self.path.with_name(self.path.name + ".store"))
        self.graph = build_graph().compile(checkpointer=self.saver)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SessionDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- registry -------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [r[0] for r in self._q("SELECT name FROM callosum_sessions ORDER BY created")]

    def info(self, name: str) -> SessionInfo:
        check_name(name)
        rows = self._q("SELECT name, scene_json, scene_path, preset, created, parent, parent_step, schema_version "
                       "FROM callosum_sessions WHERE name = ?", (name,))
        if not rows:
            known = ", ".join(self.names()) or "none yet"
            raise SessionError(f"session {name!r} is not in {self.path}; known sessions: {known}")
        n, scene_json, path, preset, created, parent, parent_step, version = rows[0]
        if version != SESSION_SCHEMA_VERSION:
            raise SessionError(f"session {name!r} has schema_version {version}; this Callosum reads "
                               f"{SESSION_SCHEMA_VERSION}")
        return SessionInfo(n, Scene.model_validate_json(scene_json), path, preset, created, parent, parent_step)

    def exists(self, name: str) -> bool:
        return bool(self._q("SELECT 1 FROM callosum_sessions WHERE name = ?", (check_name(name),)))

    def _register(self, name: str, scene: Scene, scene_path: str, preset: str, parent=None, parent_step=None):
        if self.exists(name):
            raise SessionError(f"session {name!r} already exists in {self.path}; choose another name "
                               f"or resume it with --session {name}")
        self._q("INSERT INTO callosum_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, scene.model_dump_json(), scene_path, preset, time.time(), parent, parent_step,
                 SESSION_SCHEMA_VERSION), commit=True)

    def _q(self, sql: str, args: tuple = (), commit: bool = False) -> list[tuple]:
        try:
            with self.saver.lock:
                rows = self.conn.execute(sql, args).fetchall()
                if commit:
                    self.conn.commit()
            return rows
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from None

    def unique_name(self, base: str) -> str:
        taken = set(self.names())
        base = re.sub(r"[^a-z0-9_.-]", "-", base.lower())[:56] or "session"
        n = 1
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    # ---- checkpoints ----------------------------------------------------------------------

    @staticmethod
    def config(name: str) -> dict:
        return {"configurable": {"thread_id": name}}

    def head(self, name: str):
        try:
            return self.graph.get_state(self.config(name))
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from None

    def chain(self, name: str) -> list[Any]:
        """The committed checkpoints on the head's branch, one per step (index = step)."""
        try:
            snaps = {s.config["configurable"]["checkpoint_id"]: s
                     for s in self.graph.get_state_history(self.config(name))}
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from None
        head = self.head(name)
        by_step: dict[int, Any] = {}
        cid = head.config["configurable"].get("checkpoint_id") if head.config else None
        while cid is not None and cid in snaps:
            s = snaps[cid]
            if s.next == COMMITTED and "step" in s.values:
                by_step.setdefault(s.values["step"], s)
            cid = (s.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        steps = sorted(by_step)
        if steps != list(range(len(steps))):
            raise SessionDBError(f"session {name!r} in {self.path} has a broken history (steps {steps}); "
                                 f"fork it from its last good step with `callosum sessions fork`")
        return [by_step[i] for i in steps]

    def create(self, name: str, scene: Scene, scene_path: str = "", preset: str = "fast") -> None:
        check_name(name)
        self._register(name, scene, scene_path, preset)
        self.graph.update_state(self.config(name), initial_state(World(scene)), as_node="commit")

    def rewind(self, name: str, step: int) -> dict:
        """Make committed `step` the head again (later turns stay in the file, off the branch)."""
        chain = self.chain(name)
        if not isinstance(step, int) or not 0 <= step < len(chain):
            raise SessionError(f"rewind step {step!r} is out of range for session {name!r}: "
                               f"choose 0 to {len(chain) - 1} (0 is the scene's start)")
        self.graph.update_state(chain[step].config, None, as_node="commit")
        return chain[step].values

    def fork(self, name: str, new_name: str, step: int | None = None) -> None:
        """A new session `new_name` starting from `name`'s committed `step` (default: its head)."""
        check_name(new_name, "fork name")
        info = self.info(name)
        chain = self.chain(name)
        step = len(chain) - 1 if step is None else step
        if not isinstance(step, int) or not 0 <= step < len(chain):
            raise SessionError(f"fork step {step!r} is out of range for session {name!r}: "
                               f"choose 0 to {len(chain) - 1}")
        self._register(new_name, info.scene, info.scene_path, info.preset, parent=name, parent_step=step)
        # Copy the whole branch, so the fork is self-contained even if its parent is rewound later.
        config = self.config(new_name)
        for snap in chain[: step + 1]:
            config = self.graph.update_state(config, dict(snap.values), as_node="commit")

    def recover(self, name: str) -> str | None:
        """After a crash mid-turn, return the head to the last committed turn; says what was dropped."""
        head = self.head(name)
        if head.next == COMMITTED:
            return None
        last = self.chain(name)[-1]
        self.graph.update_state(last.config, None, as_node="commit")
        action = head.values.get("action")
        return f"an unfinished turn ({action!r}) was discarded; the session is at step {last.values['step']}"

    def turns(self, name: str) -> list[TurnRecord]:
        """The committed turns on the head's branch, in order."""
        return [TurnRecord.model_validate(s.values["last_turn"]) for s in self.chain(name)[1:]]


def db_error(path: Path, exc: sqlite3.Error) -> SessionDBError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return SessionDBError(f"--db {str(path)!r} is locked by another process (another `callosum interact`?); "
                              f"close it, or pass another --db")
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text
                                                   or "corrupt" in text):
        return SessionDBError(f"--db {str(path)!r} is not a readable session database ({text}); move the file "
                              f"aside and start again, or pass another --db")
    return SessionDBError(f"--db {str(path)!r}: SQLite error ({text})")


class Session:
    """A live session: the session's thread of the turn graph, driven through an :class:`Episode`."""

    def __init__(self, db: SessionDB, name: str, *, planner=None, video=None, segment_mp4: bool = True,
                 on_node=None, durability: str = "sync", geometry=None):
        """``geometry``: a renderer of this scene at its own size and preset, made on this thread, to
        share instead of making one (the caller keeps ownership)."""
        self.db = db
        self.name = check_name(name)
        self.info = db.info(name)
        self.scene = self.info.scene
        self.recovered = db.recover(name)
        try:
            self.episode = Episode(self.scene, db.store, checkpointer=db.saver, thread=self.name, geometry=geometry,
                                   preset=self.info.preset, planner=planner, video=video, segment_mp4=segment_mp4,
                                   durability=durability, on_node=on_node)
        except ValueError as exc:
            raise SessionError(str(exc)) from None

    @property
    def ctx(self):
        """The engine's context (world, renderers, store)."""
        return self.episode.ctx

    def close(self) -> None:
        self.episode.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def state(self) -> dict:
        return self.db.head(self.name).values

    def turn(self, request: TurnRequest) -> TurnRecord:
        """Play and commit one turn; raises :class:`TurnRejected` when its events cannot apply."""
        try:
            return self.episode.turn(request)
        except sqlite3.Error as exc:
            raise db_error(self.db.path, exc) from None

    def rewind(self, step: int) -> dict:
        return self.db.rewind(self.name, step)

    def undo(self) -> dict:
        step = self.state["step"]
        if step == 0:
            raise SessionError("nothing to undo: the session is at step 0 (the scene's start)")
        return self.rewind(step - 1)

    def world_state(self) -> WorldState:
        return self.episode.world_state()
