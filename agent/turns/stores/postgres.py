"""The shared session store: one Postgres database holds the checkpoints (LangGraph's
``PostgresSaver``), the session registry, the lease table and, by default, the blobs, so any
process on any host can open, drive or watch any session.

Leases use the database's clock only (``clock_timestamp()``): a holder is live while its heartbeat
is younger than the TTL *and* the connection it beats on is still open (``pg_stat_activity``), so
a killed driver's session is free as soon as Postgres sees its socket close, and a frozen or
unreachable one's after the TTL. A checkpoint write locks its session's lease row
(``SELECT … FOR UPDATE``) and checks the writer's generation in the write's own transaction.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from agent.turns.leases import HOST, INSTANCE, LEASE_TTL_S, Holder, Lease, SessionBusy, check_write, new_lease
from agent.turns.store import BlobStore
from agent.turns.stores.base import GuardedWrites, LeaseTable, REGISTRY_DDL, SessionDBError, Store, redact
from agent.turns.stores.pgblobs import BLOBS_DDL, PostgresBlobs

CONNECT_TIMEOUT_S = 10.0
POOL_SIZE = 4
_SCHEMA_LOCK = 0x63616C6F  # advisory lock id taken while the schema is created ("calo")
LEASES_DDL = ("CREATE TABLE IF NOT EXISTS callosum_leases (name TEXT PRIMARY KEY, generation INTEGER NOT NULL, "
              "owner TEXT NOT NULL, label TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, "
              "instance TEXT NOT NULL, backend_pid INTEGER NOT NULL, backend_start TIMESTAMPTZ, "
              "since TIMESTAMPTZ NOT NULL, heartbeat TIMESTAMPTZ NOT NULL, ttl DOUBLE PRECISION NOT NULL, "
              "released BOOLEAN NOT NULL)")
_HOLDER = ("SELECT generation, owner, label, pid, host, extract(epoch FROM since)::float8 AS since, released, "
           "(NOT released AND heartbeat > clock_timestamp() - make_interval(secs => ttl) AND EXISTS ("
           "SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid AND (a.backend_start IS NULL "
           "OR l.backend_start IS NULL OR a.backend_start = l.backend_start))) AS live "
           "FROM callosum_leases l WHERE name = %s")
_ME = "(SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())"


_TOKEN_ONLY = ("SELECT generation, owner, label, pid, host, 0::float8 AS since, released, FALSE AS live "
               "FROM callosum_leases l WHERE name = %s")


def read_holder(cur: psycopg.Cursor, name: str, *, lock: bool = False, liveness: bool = True) -> Holder | None:
    """The lease row of `name` (locked until the transaction ends with `lock`), liveness judged by the
    database's clock against the TTL its holder set (without `liveness`: not judged, ``live`` False;
    enough to check a writer's token)."""
    sql = _HOLDER if liveness else _TOKEN_ONLY
    row = cur.execute(sql + (" FOR UPDATE OF l" if lock else ""), (name,)).fetchone()
    if row is None:
        return None
    return Holder(**row) if isinstance(row, dict) else Holder(*row)


class PostgresLeases(LeaseTable):
    """The lease table, driven over one *presence* connection per process: the leases this process
    holds live exactly as long as that connection (and their heartbeats)."""

    transient = (psycopg.Error,)

    def __init__(self, url: str):
        self.url = url
        self.lock = threading.Lock()
        self._conn: psycopg.Connection | None = None

    def _presence(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row,
                                         connect_timeout=int(CONNECT_TIMEOUT_S), application_name="callosum-leases")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor]:
        with self.lock:
            conn = self._presence()
            with conn.transaction(), conn.cursor() as cur:
                yield cur

    def holder(self, name: str) -> Holder | None:
        with self._transaction() as cur:
            held = read_holder(cur, name)
        return held if held is not None and held.live else None

    def acquire(self, name: str, label: str, *, take_over: bool = False) -> Lease:
        with self._transaction() as cur:
            cur.execute("INSERT INTO callosum_leases VALUES (%s, 0, '', '', 0, '', '', 0, NULL, clock_timestamp(), "
                        "clock_timestamp(), 0, TRUE) ON CONFLICT (name) DO NOTHING", (name,))
            held = read_holder(cur, name, lock=True)
            if held.live and not take_over:
                raise SessionBusy(held.describe(name))
            lease = new_lease(name, held.generation + 1)
            cur.execute(f"UPDATE callosum_leases SET generation = %s, owner = %s, label = %s, pid = %s, host = %s, "
                        f"instance = %s, backend_pid = pg_backend_pid(), backend_start = {_ME}, "
                        f"since = clock_timestamp(), heartbeat = clock_timestamp(), ttl = %s, released = FALSE WHERE name = %s",
                        (lease.generation, lease.owner, label, os.getpid(), HOST, INSTANCE, LEASE_TTL_S, name))
        return lease

    def release(self, lease: Lease) -> None:
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET released = TRUE WHERE name = %s AND generation = %s AND owner = %s",
                        (lease.name, lease.generation, lease.owner))

    def beat(self, lease: Lease) -> bool:
        with self._transaction() as cur:
            cur.execute(f"UPDATE callosum_leases SET heartbeat = clock_timestamp(), backend_pid = pg_backend_pid(), "
                        f"backend_start = {_ME} WHERE name = %s AND generation = %s AND owner = %s AND NOT released",
                        (lease.name, lease.generation, lease.owner))
            return cur.rowcount == 1

    def age(self, name: str, seconds: float) -> None:
        with self._transaction() as cur:
            cur.execute("UPDATE callosum_leases SET heartbeat = heartbeat - make_interval(secs => %s) WHERE name = %s",
                        (seconds, name))

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()


class GuardedPostgresSaver(GuardedWrites, PostgresSaver):
    """LangGraph's Postgres saver, each checkpoint write in one transaction with its lease check
    (the lease row locked ``FOR UPDATE``). ``before_commit(kind)`` (tests) runs just before the commit."""


    def __init__(self, pool: ConnectionPool, serde=None):
        super().__init__(pool, serde=serde)
        self._start_guard()

    @contextmanager
    def _cursor(self, *, pipeline: bool = False) -> Iterator[psycopg.Cursor]:
        target = getattr(self._guard, "target", None)
        if target is None or not pipeline:
            with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        with self.lock, self.conn.connection() as conn, conn.transaction():
            with conn.cursor(binary=True, row_factory=dict_row) as cur:
                check_write(read_holder(cur, target[0], lock=True, liveness=target[1] is None), *target)
                yield cur
                self._before_commit()


class PostgresStore(Store):
    """A Postgres database (``postgresql://…``); its schema is created on first use. Blobs go to its
    ``callosum_blobs`` table unless ``CALLOSUM_BLOBS`` names a (shared) directory."""

    errors = (psycopg.Error, PoolTimeout)

    def __init__(self, url: str, serde=None):
        self.url, self.where = url, redact(url)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise SessionDBError(f"--db {self.where!r} is not a valid Postgres URL ({exc}); "
                                 f"use postgresql://USER@HOST:PORT/DBNAME") from None
        try:  # one plain connection first: its error says why (a pool's timeout would not)
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as exc:
            raise self.error(exc) from None
        self.pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False, timeout=CONNECT_TIMEOUT_S,
                                   name="callosum", kwargs={"autocommit": True, "prepare_threshold": 0,
                                                            "row_factory": dict_row})
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            self.saver = GuardedPostgresSaver(self.pool, serde=serde)
            self._create_schema()
        except (psycopg.Error, PoolTimeout) as exc:
            self.pool.close()
            raise self.error(exc) from None
        self.leases = PostgresLeases(url)
        shared_dir = os.environ.get("CALLOSUM_BLOBS")
        self.blobs = BlobStore(Path(shared_dir)) if shared_dir else PostgresBlobs(self.pool, self.where)

    def _create_schema(self) -> None:
        """Tables on first use; an advisory lock keeps two processes starting at once apart."""
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                self.saver.setup()
                for ddl in (REGISTRY_DDL.format(real="DOUBLE PRECISION"), LEASES_DDL, BLOBS_DDL):
                    conn.execute(ddl)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))

    def query(self, sql: str, args: tuple = (), commit: bool = False) -> list[tuple]:
        try:
            with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(sql.replace("?", "%s"), args)
                return cur.fetchall() if cur.description else []
        except (psycopg.Error, PoolTimeout) as exc:
            raise self.error(exc) from None

    def error(self, exc: BaseException) -> SessionDBError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
            return SessionDBError(f"--db {self.where!r}: cannot reach Postgres ({text}); start it, or check the "
                                  f"host, port, user and database name in the URL")
        return SessionDBError(f"--db {self.where!r}: Postgres error ({text})")

    def close(self) -> None:
        self.leases.close()
        self.pool.close()
