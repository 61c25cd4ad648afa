"""The interface every session store implements (SQLite, Postgres)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.turns.leases import Holder, Lease
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
