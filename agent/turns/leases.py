"""Single-writer sessions: one driver per session at a time, enforced where checkpoints are written.

A driver (``callosum interact``, a served session, a re-plan) takes the session's *lease*: a row in
``callosum_leases`` with its owner, pid, host, start time, heartbeat and a *generation* that grows
with every new driver. Every checkpoint the driver writes carries its lease token in the run config,
and :class:`GuardedSaver` checks the token in the same SQLite transaction as the write: a driver
whose lease was taken over, released (closed) or never held cannot write. A second driver gets
:class:`SessionBusy` naming the first; ``take_over`` moves the lease (the old driver then gets
:class:`SessionLost` at its next write and nothing of its turn is kept). A driver whose process
died (pid gone on this host) or whose heartbeat stopped for :data:`LEASE_TTL_S` holds nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from langgraph.checkpoint.sqlite import SqliteSaver

LEASE_KEY = "callosum_lease"
"""The run-config key (under ``configurable``) that carries a driver's lease token."""
LEASE_TTL_S = 30.0
"""A lease whose heartbeat is older than this is free (its driver hung or its host went away)."""
HEARTBEAT_S = 5.0
"""How often a driver renews its lease."""
_HOST = socket.gethostname()


class SessionBusy(RuntimeError):
    """Another live driver holds the session; the message names it and the ways out."""


class SessionLost(RuntimeError):
    """This driver no longer holds the session (taken over, closed or deleted); nothing more is saved."""


@dataclass(frozen=True)
class Lease:
    """A held lease: what a driver passes with each write."""

    name: str
    """The session."""
    owner: str
    """Random id of this driver."""
    generation: int
    """The session's driver count when this lease was taken."""

    @property
    def token(self) -> str:
        return f"{self.generation}:{self.owner}"

    def config(self, config: dict) -> dict:
        """`config` with this lease's token added (for ``update_state`` and ``invoke``)."""
        return {**config, "configurable": {**config.get("configurable", {}), LEASE_KEY: self.token}}


@dataclass(frozen=True)
class Holder:
    """A lease row as read back."""

    generation: int
    owner: str
    label: str
    pid: int
    host: str
    pid_start: str
    since: float
    heartbeat: float
    released: bool

    @property
    def live(self) -> bool:
        """True while its driver can still write: not released, heartbeat fresh, process alive."""
        if self.released or time.time() - self.heartbeat > LEASE_TTL_S:
            return False
        return self.host != _HOST or process_start(self.pid) == self.pid_start

    def describe(self, name: str) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return (f"session {name!r} is driven by {self.label} (pid {self.pid} on {self.host}) since {since}; "
                f"watch it read-only (`callosum sessions show {name}`, or the server's spectator link), or "
                f"drive it from here with --take-over (`callosum interact --session {name} --take-over`, or "
                f"POST /api/sessions/{name}/open?take_over=true); the other driver's unsaved turn is then dropped")


def process_start(pid: int) -> str:
    """An id of the process `pid` that changes when the pid is reused ('' when it is not running)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return "" if fields[0] in ("Z", "X") else fields[19]  # state; starttime (field 22)
    except FileNotFoundError:
        return ""
    except (OSError, IndexError):  # no /proc: fall back to "is there such a process"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ""
        except PermissionError:
            pass
        return "?"


_COLUMNS = "generation, owner, label, pid, host, pid_start, since, heartbeat, released"


class LeaseTable:
    """The ``callosum_leases`` table of one session database."""

    def __init__(self, conn: sqlite3.Connection, lock):
        self.conn, self.lock = conn, lock
        with self.lock:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS callosum_leases (name TEXT PRIMARY KEY, generation INTEGER NOT NULL, "
                "owner TEXT NOT NULL, label TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, "
                "pid_start TEXT NOT NULL, since REAL NOT NULL, heartbeat REAL NOT NULL, released INTEGER NOT NULL)"
            )
            conn.commit()

    @staticmethod
    def read(cur: sqlite3.Cursor, name: str) -> Holder | None:
        row = cur.execute(f"SELECT {_COLUMNS} FROM callosum_leases WHERE name = ?", (name,)).fetchone()
        return None if row is None else Holder(*row[:8], bool(row[8]))

    def holder(self, name: str) -> Holder | None:
        """The live driver of `name`, or None."""
        with self.lock:
            held = self.read(self.conn.cursor(), name)
        return held if held is not None and held.live else None

    def acquire(self, name: str, label: str, *, take_over: bool = False) -> Lease:
        """Take the lease of `name`; :class:`SessionBusy` if a live driver holds it (unless `take_over`)."""
        now, pid = time.time(), os.getpid()
        with self._transaction() as cur:
            held = self.read(cur, name)
            if held is not None and held.live and not take_over:
                raise SessionBusy(held.describe(name))
            lease = Lease(name, secrets.token_hex(8), (held.generation if held else 0) + 1)
            cur.execute("INSERT OR REPLACE INTO callosum_leases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                        (name, lease.generation, lease.owner, label, pid, _HOST, process_start(pid), now, now))
        return lease

    def release(self, lease: Lease) -> None:
        """Give the lease up (only this very lease: a newer driver's is left alone)."""
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET released = 1 WHERE name = ? AND generation = ? AND owner = ?",
                        (lease.name, lease.generation, lease.owner))

    def beat(self, lease: Lease) -> bool:
        """Renew the heartbeat; False when the lease is no longer ours."""
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET heartbeat = ? WHERE name = ? AND generation = ? AND owner = ? "
                        "AND released = 0", (time.time(), lease.name, lease.generation, lease.owner))
            return cur.rowcount == 1

    def _transaction(self):
        return immediate_transaction(self.conn, self.lock)


@contextmanager
def immediate_transaction(conn: sqlite3.Connection, lock, prepare=None) -> Iterator[sqlite3.Cursor]:
    """A ``BEGIN IMMEDIATE`` transaction on `conn`, holding `lock`: committed when the block ends,
    rolled back on any error. `prepare` runs first, under the lock."""
    with lock:
        if prepare is not None:
            prepare()
        if conn.in_transaction:
            conn.commit()
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            yield cur
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()


def check_write(cur: sqlite3.Cursor, name: str, token: str | None) -> None:
    """Refuse a checkpoint write to session `name` that its lease does not allow (inside the write's
    transaction). With a token: the lease must be exactly that one, still held. Without one (admin
    commands: rewind, recover of an idle session): nobody may be driving it."""
    held = LeaseTable.read(cur, name)
    if token is None:
        if held is not None and held.live:
            raise SessionBusy(held.describe(name))
        return
    if held is None or held.released or f"{held.generation}:{held.owner}" != token:
        why = ("it was closed" if held is not None and held.released and token.startswith(f"{held.generation}:")
               else f"{held.label} (pid {held.pid} on {held.host}) took it over" if held is not None
               else "it has no driver")
        raise SessionLost(f"session {name!r} is no longer driven from here ({why}); this turn was not saved")


class GuardedSaver(SqliteSaver):
    """The SQLite saver, checking each write's lease in the write's own transaction, and counting the
    time and bytes of each write (for the bench)."""

    measure_size = False

    def __init__(self, conn, serde=None):
        super().__init__(conn, serde=serde)
        self.writes: list[tuple[str, float, int]] = []
        self._guard = threading.local()

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        target = getattr(self._guard, "target", None)
        if target is None or not transaction:
            with super().cursor(transaction) as cur:
                yield cur
            return
        with immediate_transaction(self.conn, self.lock, prepare=self.setup) as cur:
            check_write(cur, *target)
            yield cur

    @contextmanager
    def _guarded(self, config: dict) -> Iterator[None]:
        c = config.get("configurable", {})
        self._guard.target = (str(c.get("thread_id")), c.get(LEASE_KEY))
        try:
            yield
        finally:
            self._guard.target = None

    def put(self, config, checkpoint, metadata, new_versions):
        t0 = time.perf_counter()
        with self._guarded(config):
            out = super().put(config, checkpoint, metadata, new_versions)
        size = len(self.serde.dumps_typed(checkpoint)[1]) if self.measure_size else 0
        self.writes.append(("checkpoint", time.perf_counter() - t0, size))
        return out

    def put_writes(self, config, writes, task_id, task_path=""):
        t0 = time.perf_counter()
        with self._guarded(config):
            super().put_writes(config, writes, task_id, task_path)
        self.writes.append(("writes", time.perf_counter() - t0, 0))


class Heartbeat:
    """Renews a lease every :data:`HEARTBEAT_S` on a daemon thread; calls `on_lost` once if it is gone."""

    def __init__(self, table: LeaseTable, lease: Lease, on_lost: Callable[[str], None] | None = None):
        self.table, self.lease, self.on_lost = table, lease, on_lost
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                ours = self.table.beat(self.lease)
            except sqlite3.Error:  # busy or locked for a moment: try again at the next beat
                continue
            if not ours and not self._stop.is_set():  # (a lease released by its own driver is not lost)
                self.lost = True
                if self.on_lost is not None:
                    self.on_lost(f"session {self.lease.name!r} is no longer driven from here (another driver "
                                 "took it over, or it was closed)")
            if not ours:
                return

    def stop(self) -> None:
        self._stop.set()
