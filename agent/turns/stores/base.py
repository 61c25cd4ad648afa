"""The interface every session store implements (SQLite, Postgres)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.turns.leases import LEASE_KEY, Holder, Lease
from agent.turns.store import Blobs


class SessionDBError(RuntimeError):
    """The session database is missing, corrupt, locked or unreachable."""


class LeaseTable:
    """A store's ``callosum_leases`` table."""

    transient: ClassVar[tuple[type[BaseException], ...]] = ()
    """Errors a heartbeat shrugs off (it tries again at the next beat)."""

    def holder(self, name: str) -> Holder | None:
        """The live driver of `name`, or None."""
        raise NotImplementedError

    def acquire(self, name: str, label: str, *, take_over: bool = False) -> Lease:
        """Take the lease of `name`; :class:`SessionBusy` if a live driver holds it (unless `take_over`)."""
        raise NotImplementedError

    def release(self, lease: Lease) -> None:
        """Give the lease up (only this very lease: a newer driver's is left alone)."""
        raise NotImplementedError

    def beat(self, lease: Lease) -> bool:
        """Renew the heartbeat; False when the lease is no longer ours."""
        raise NotImplementedError

    def age(self, name: str, seconds: float) -> None:
        """Make the heartbeat of `name` `seconds` older (as if its driver froze; for tests and drills)."""
        raise NotImplementedError


class Store:
    """Checkpoints (``saver``), the session registry, the lease table (``leases``) and blobs."""

    where: str
    """What to call this database in messages (a path, or a URL without its password)."""
    saver: BaseCheckpointSaver
    """The guarded checkpointer: each write checks its lease in its own transaction."""
    leases: LeaseTable
    blobs: Blobs
    errors: tuple[type[BaseException], ...]
    """The driver's error types, turned into :class:`SessionDBError` by :meth:`error`."""

    def query(self, sql: str, args: tuple = (), commit: bool = False) -> list[tuple[Any, ...]]:
        """Run one registry statement (``?`` placeholders) and return its rows."""
        raise NotImplementedError

    def error(self, exc: BaseException) -> SessionDBError:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


REGISTRY_DDL = ("CREATE TABLE IF NOT EXISTS callosum_sessions (name TEXT PRIMARY KEY, scene_json TEXT NOT NULL, "
                "scene_path TEXT NOT NULL, preset TEXT NOT NULL, created {real} NOT NULL, parent TEXT, "
                "parent_step INTEGER, schema_version INTEGER NOT NULL)")
"""The session registry's table (``{real}``: the backend's float type)."""


def redact(url: str) -> str:
    """`url` with any password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^@]*@", r"\1:***@", url)


class GuardedWrites:
    """Mixed into a LangGraph saver: every checkpoint write runs under the lease its config names (the
    saver's cursor checks it inside the write's own transaction, ``self._guard.target``), and the time
    and bytes of each write are kept for the bench. ``before_commit(kind)`` (tests) runs inside a
    guarded write's transaction, just before its commit; `kind` is 'checkpoint' (a checkpoint) or
    'writes' (a node's pending writes)."""

    measure_size = False
    before_commit = None

    def _start_guard(self) -> None:
        self.writes: list[tuple[str, float, int]] = []
        self._guard = threading.local()

    @contextmanager
    def _guarded(self, config: dict, kind: str) -> Iterator[None]:
        c = config.get("configurable", {})
        self._guard.target = (str(c.get("thread_id")), c.get(LEASE_KEY))
        self._guard.kind = kind
        try:
            yield
        finally:
            self._guard.target = None

    def _before_commit(self) -> None:
        if self.before_commit is not None:
            self.before_commit(self._guard.kind)

    def put(self, config, checkpoint, metadata, new_versions):
        t0 = time.perf_counter()
        with self._guarded(config, "checkpoint"):
            out = super().put(config, checkpoint, metadata, new_versions)
        size = len(self.serde.dumps_typed(checkpoint)[1]) if self.measure_size else 0
        self.writes.append(("checkpoint", time.perf_counter() - t0, size))
        return out

    def put_writes(self, config, writes, task_id, task_path=""):
        t0 = time.perf_counter()
        with self._guarded(config, "writes"):
            super().put_writes(config, writes, task_id, task_path)
        self.writes.append(("writes", time.perf_counter() - t0, 0))
