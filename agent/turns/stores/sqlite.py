"""The embedded session store: one SQLite file (checkpoints, registry, leases) and a blob folder next
to it (``<db>.store/``). One host: a lease's driver is judged live by its heartbeat and by its pid on
this host (a killed driver's session is free at once)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agent.turns.leases import HOST, LEASE_TTL_S, Holder, Lease, SessionBusy, check_write, new_lease
from agent.turns.store import BlobStore
from agent.turns.stores.base import GuardedWrites, LeaseTable, REGISTRY_DDL, SessionDBError, Store

LOCK_TIMEOUT_S = 2.0


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


def read_holder(cur: sqlite3.Cursor, name: str) -> Holder | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM callosum_leases WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    generation, owner, label, pid, host, pid_start, since, heartbeat, released = row
    live = (not released and time.time() - heartbeat <= LEASE_TTL_S
            and (host != HOST or process_start(pid) == pid_start))
    return Holder(generation, owner, label, pid, host, since, bool(released), live)


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


class SqliteLeases(LeaseTable):
    """The ``callosum_leases`` table of one SQLite session file."""

    transient = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, lock):
        self.conn, self.lock = conn, lock
        with self.lock:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS callosum_leases (name TEXT PRIMARY KEY, generation INTEGER NOT NULL, "
                "owner TEXT NOT NULL, label TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, "
                "pid_start TEXT NOT NULL, since REAL NOT NULL, heartbeat REAL NOT NULL, released INTEGER NOT NULL)"
            )
            conn.commit()

    def holder(self, name: str) -> Holder | None:
        with self.lock:
            held = read_holder(self.conn.cursor(), name)
        return held if held is not None and held.live else None

    def acquire(self, name: str, label: str, *, take_over: bool = False) -> Lease:
        now, pid = time.time(), os.getpid()
        with self._transaction() as cur:
            held = read_holder(cur, name)
            if held is not None and held.live and not take_over:
                raise SessionBusy(held.describe(name))
            lease = new_lease(name, (held.generation if held else 0) + 1)
            cur.execute("INSERT OR REPLACE INTO callosum_leases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                        (name, lease.generation, lease.owner, label, pid, HOST, process_start(pid), now, now))
        return lease

    def release(self, lease: Lease) -> None:
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET released = 1 WHERE name = ? AND generation = ? AND owner = ?",
                        (lease.name, lease.generation, lease.owner))

    def beat(self, lease: Lease) -> bool:
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET heartbeat = ? WHERE name = ? AND generation = ? AND owner = ? "
                        "AND released = 0", (time.time(), lease.name, lease.generation, lease.owner))
            return cur.rowcount == 1

    def age(self, name: str, seconds: float) -> None:
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET heartbeat = heartbeat - ? WHERE name = ?", (seconds, name))

    def _transaction(self):
        return immediate_transaction(self.conn, self.lock)


class GuardedSaver(GuardedWrites, SqliteSaver):
    """The SQLite saver, checking each write's lease in the write's own transaction, and counting the
    time and bytes of each write (for the bench). ``before_commit(kind)`` (tests) runs inside a guarded
    write's transaction, just before its commit."""


    def __init__(self, conn, serde=None):
        super().__init__(conn, serde=serde)
        self._start_guard()

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        target = getattr(self._guard, "target", None)
        if target is None or not transaction:
            with super().cursor(transaction) as cur:
                yield cur
            return
        with immediate_transaction(self.conn, self.lock, prepare=self.setup) as cur:
            check_write(read_holder(cur, target[0]), *target)
            yield cur
            self._before_commit()


class SqliteStore(Store):
    """One SQLite file, and its blob folder ``<file>.store/``."""

    errors = (sqlite3.Error,)

    def __init__(self, path: Path, *, create: bool = True, serde=None):
        self.path = path
        self.where = str(path)
        if not path.exists():
            if not create:
                raise SessionDBError(
                    f"--db {self.where!r}: no session database there; start a session with "
                    f"`callosum interact SCENE`, or pass --db with the right file"
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SessionDBError(f"--db {self.where!r}: cannot create its folder ({exc}); pass another --db")
        try:
            self.conn = sqlite3.connect(path, check_same_thread=False, timeout=LOCK_TIMEOUT_S)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self.saver = GuardedSaver(self.conn, serde=serde)
            self.saver.setup()
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(REGISTRY_DDL.format(real="REAL"))
            self.conn.commit()
            self.leases = SqliteLeases(self.conn, self.saver.lock)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self.blobs = BlobStore(path.with_name(path.name + ".store"))

    def query(self, sql: str, args: tuple = (), commit: bool = False) -> list[tuple]:
        try:
            with self.saver.lock:
                rows = self.conn.execute(sql, args).fetchall()
                if commit:
                    self.conn.commit()
            return rows
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    def error(self, exc: BaseException) -> SessionDBError:
        text, where = str(exc), self.where
        if "locked" in text or "busy" in text:
            return SessionDBError(f"--db {where!r} is locked by another process (another `callosum interact`?); "
                                  f"close it, or pass another --db")
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text
                                                       or "corrupt" in text):
            return SessionDBError(f"--db {where!r} is not a readable session database ({text}); move the file "
                                  f"aside and start again, or pass another --db")
        return SessionDBError(f"--db {where!r}: SQLite error ({text})")

    def close(self) -> None:
        self.conn.close()
