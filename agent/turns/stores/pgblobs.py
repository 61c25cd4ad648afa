"""Blobs in Postgres: a ``callosum_blobs`` table of ``bytea`` keyed by the content reference, so every
process that reaches the database reads every frame, and a blob put twice is stored once."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from agent.turns.store import Blobs, StoreError

BLOBS_DDL = "CREATE TABLE IF NOT EXISTS callosum_blobs (ref TEXT PRIMARY KEY, data BYTEA NOT NULL)"


class PostgresBlobs(Blobs):
    """Content-addressed blobs in the session database (``INSERT … ON CONFLICT DO NOTHING``)."""

    def __init__(self, pool: ConnectionPool, where: str):
        self.pool, self._where = pool, where

    def where(self, ref: str) -> str:
        return f"{self._where} callosum_blobs/{ref}"

    def write(self, ref: str, data: bytes) -> None:
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO callosum_blobs (ref, data) VALUES (%s, %s) ON CONFLICT (ref) DO NOTHING",
                         (ref, data))

    def read(self, ref: str) -> bytes:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT data FROM callosum_blobs WHERE ref = %s", (ref,)).fetchone()
        if row is None:
            raise StoreError(f"blob {ref} is missing from {self.where(ref)}; it was deleted, or the session "
                             f"was copied without its blobs")
        return bytes(row["data"] if isinstance(row, dict) else row[0])
