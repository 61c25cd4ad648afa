"""Durable sessions: the turn graph on a durable checkpointer, with rewind, fork and recovery.

A session store (:mod:`agent.turns.stores`: a SQLite file by default, or Postgres) holds
LangGraph's checkpoints (one thread per session), a small ``callosum_sessions`` table naming each
session's scene, the lease table and the blobs (frames, segments). A session's *committed* checkpoints are those waiting in ``observe``;
rewinding or recovering makes an earlier one the head again (the abandoned branch stays in the
file), and forking copies one into a new thread.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.turns.episode import COMMITTED, Episode
from agent.turns.graph import build_graph, checkpoint_serde, initial_state
from agent.turns.leases import Heartbeat, Lease, SessionBusy, SessionLost
from agent.turns.stores import default_db, open_store
from agent.turns.stores.base import SessionDBError
from agent.turns.turn import TurnRecord, TurnRequest, as_record
from simulator.scene import Scene
from simulator.state import WorldState
from simulator.world import World, WorldError

SESSION_SCHEMA_VERSION = 1
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
"""A session name, matched whole (``fullmatch``)."""
__all__ = ["Session", "SessionBusy", "SessionDB", "SessionDBError", "SessionError", "SessionExists", "SessionLost",
           "check_name",
           "default_db"]


class SessionError(ValueError):
    """A bad session name, step or request; the message names the value and the fix."""


class SessionExists(SessionError):
    """The name is taken (perhaps by another process a moment ago)."""


def check_name(name: str, field: str = "session name") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SessionError(
            f"{field} {name!r} is not valid: use 1-64 lowercase letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit (e.g. 'kitchen-2')"
        )
    return name


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

    def __init__(self, target: str | Path | None = None, *, create: bool = True):
        """`target`: a --db value (a SQLite file path, ``sqlite:///PATH`` or ``postgresql://…``);
        None is :func:`default_db` (``$CALLOSUM_DB`` first)."""
        self.backend = open_store(target, create=create, serde=checkpoint_serde())
        self.path = self.backend.where
        self.saver = self.backend.saver
        self.leases = self.backend.leases
        self.store = self.backend.blobs
        self.graph = build_graph().compile(checkpointer=self.saver)

    def close(self) -> None:
        self.backend.close()

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
        try:
            scene = Scene.model_validate_json(scene_json)
        except ValidationError as exc:
            raise SessionDBError(f"session {name!r} in {self.path} is damaged: its stored scene no longer "
                                 f"validates ({exc.errors()[0]['msg']}); start a new session from the scene "
                                 "file") from None
        return SessionInfo(n, scene, path, preset, created, parent, parent_step)

    def exists(self, name: str) -> bool:
        return bool(self._q("SELECT 1 FROM callosum_sessions WHERE name = ?", (check_name(name),)))

    def _register(self, name: str, scene: Scene, scene_path: str, preset: str, parent=None, parent_step=None):
        exists = SessionExists(f"session {name!r} already exists in {self.path}; choose another name "
                              f"or resume it with --session {name}")
        if self.exists(name):
            raise exists
        try:
            self._q("INSERT INTO callosum_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, scene.model_dump_json(), scene_path, preset, time.time(), parent, parent_step,
                     SESSION_SCHEMA_VERSION), commit=True)
        except SessionDBError:
            if self.exists(name):  # another process registered it first
                raise exists from None
            raise

    def _unregister(self, name: str) -> None:
        """Undo a registration whose first checkpoint could not be written (no half-made sessions)."""
        self._q("DELETE FROM callosum_sessions WHERE name = ?", (name,), commit=True)

    def _q(self, sql: str, args: tuple = (), commit: bool = False) -> list[tuple]:
        return self.backend.query(sql, args, commit)

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
        except self.backend.errors as exc:
            raise self.backend.error(exc) from None

    def chain(self, name: str) -> list[Any]:
        """The committed checkpoints on the head's branch, one per step (index = step)."""
        head = self.head(name)  # first: a driver writing meanwhile only adds checkpoints the history also has
        try:
            snaps = {s.config["configurable"]["checkpoint_id"]: s
                     for s in self.graph.get_state_history(self.config(name))}
        except self.backend.errors as exc:
            raise self.backend.error(exc) from None
        by_step: dict[int, Any] = {}
        cid = head.config["configurable"].get("checkpoint_id") if head.config else None
        while cid is not None and cid in snaps:
            s = snaps[cid]
            if s.next == COMMITTED and "step" in s.values:
                by_step.setdefault(s.values["step"], s)
            cid = (s.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        steps = sorted(by_step)
        if not steps:
            raise SessionDBError(f"session {name!r} in {self.path} is damaged: it has no committed start (it was "
                                 f"never set up, or its checkpoints are gone); start a new session from its scene")
        if steps != list(range(len(steps))):
            raise SessionDBError(f"session {name!r} in {self.path} has a broken history (steps {steps}); "
                                 f"fork it from its last good step with `callosum sessions fork`")
        return [by_step[i] for i in steps]

    def create(self, name: str, scene: Scene, scene_path: str = "", preset: str = "fast") -> None:
        """Register `name` with its first checkpoint, or nothing at all (the world must compile first)."""
        check_name(name)
        try:
            start = initial_state(World(scene))
        except WorldError as exc:
            raise SessionError(f"cannot start session {name!r}: {exc}") from None
        self._register(name, scene, scene_path, preset)
        try:
            self.graph.update_state(self.config(name), start, as_node="commit")
        except BaseException:
            self._unregister(name)
            raise

    def rewind(self, name: str, step: int, lease: Lease | None = None) -> dict:
        """Make committed `step` the head again (later turns stay in the file, off the branch).

        Without the session's `lease` this is refused while another driver holds it."""
        chain = self.chain(name)
        if not isinstance(step, int) or not 0 <= step < len(chain):
            raise SessionError(f"rewind step {step!r} is out of range for session {name!r}: "
                               f"choose 0 to {len(chain) - 1} (0 is the scene's start)")
        self._write(chain[step].config, lease)
        return chain[step].values

    def _write(self, config: dict, lease: Lease | None) -> None:
        """Make the checkpoint at `config` the head (a new ``commit`` checkpoint on top of it)."""
        self.graph.update_state(lease.config(config) if lease else config, None, as_node="commit")

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

    def recover(self, name: str, lease: Lease | None = None) -> str | None:
        """After a crash mid-turn, return the head to the last committed turn; says what was dropped."""
        head = self.head(name)
        if head.next == COMMITTED:
            return None
        last = self.chain(name)[-1]
        self._write(last.config, lease)
        request = head.values.get("request")
        action = request.get("action") if isinstance(request, dict) else getattr(request, "action", None)
        return f"an unfinished turn ({action!r}) was discarded; the session is at step {last.values['step']}"

    def turns(self, name: str) -> list[TurnRecord]:
        """The committed turns on the head's branch, in order."""
        return [as_record(s.values["last_turn"]) for s in self.chain(name)[1:]]


class Session:
    """A live session: the session's thread of the turn graph, driven through an :class:`Episode`.

    Opening one takes the session's lease (:mod:`agent.turns.leases`): a second driver gets
    :class:`SessionBusy` unless `take_over`, and a driver that lost its lease gets :class:`SessionLost`
    at its next write. `driver` names this driver in those messages; `on_lost` is called (from the
    heartbeat thread) when the lease is gone."""

    def __init__(self, db: SessionDB, name: str, *, planner=None, video=None, segment_mp4: bool = True,
                 on_node=None, durability: str = "sync", geometry=None, take_over: bool = False,
                 driver: str | None = None, on_lost=None):
        """``geometry``: a renderer of this scene at its own size and preset, made on this thread, to
        share instead of making one (the caller keeps ownership)."""
        self.db = db
        self.name = check_name(name)
        self.info = db.info(name)
        self.scene = self.info.scene
        db.chain(name)  # a damaged session fails here, with a clear message, before anything is taken
        label = driver or f"{Path(sys.argv[0]).name or 'python'}"
        if os.environ.get("CALLOSUM_ADVERTISE"):  # where this process takes clients (several servers)
            label += f" at {os.environ['CALLOSUM_ADVERTISE']}"
        try:
            self.lease = db.leases.acquire(name, label, take_over=take_over)
        except db.backend.errors as exc:
            raise db.backend.error(exc) from None
        self._heartbeat = None
        try:
            self.recovered = db.recover(name, self.lease)
            self.episode = Episode(self.scene, db.store, checkpointer=db.saver, thread=self.name, geometry=geometry,
                                   preset=self.info.preset, planner=planner, video=video, segment_mp4=segment_mp4,
                                   durability=durability, on_node=on_node, lease=self.lease.token)
        except BaseException as exc:
            self.release()
            if isinstance(exc, (ValueError, WorldError)) and not isinstance(exc, SessionError):
                raise SessionError(str(exc)) from None
            raise
        self._heartbeat = Heartbeat(db.leases, self.lease, on_lost)

    @property
    def ctx(self):
        """The engine's context (world, renderers, store)."""
        return self.episode.ctx

    def release(self) -> None:
        """Give the lease up (idempotent; a newer driver's lease is never touched)."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        try:
            self.db.leases.release(self.lease)
        except self.db.backend.errors:  # the database is gone or locked: the lease lapses by its heartbeat
            pass

    def close(self) -> None:
        try:
            self.episode.close()
        finally:
            self.release()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def state(self) -> dict:
        return self.db.head(self.name).values

    def turn(self, request: TurnRequest) -> TurnRecord:
        """Play and commit one turn; raises :class:`TurnRejected` when its events cannot apply, and
        :class:`SessionLost` when this driver no longer holds the session (nothing is saved then)."""
        try:
            return self.episode.turn(request)
        except self.db.backend.errors as exc:
            raise self.db.backend.error(exc) from None

    def rewind(self, step: int) -> dict:
        return self.db.rewind(self.name, step, self.lease)

    def undo(self) -> dict:
        step = self.state["step"]
        if step == 0:
            raise SessionError("nothing to undo: the session is at step 0 (the scene's start)")
        return self.rewind(step - 1)

    def world_state(self) -> WorldState:
        return self.episode.world_state()
