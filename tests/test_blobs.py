"""The content-addressed blob stores: a local directory and Postgres bytea, one behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from agent.turns.store import BlobStore, StoreError


@pytest.fixture(params=["local", "postgres"])
def blobs(request, tmp_path):
    if request.param == "local":
        yield BlobStore(tmp_path / "store")
        return
    from agent.turns.sessions import SessionDB
    from tests.pg_util import fresh_database

    with SessionDB(fresh_database(request.getfixturevalue("postgres_base"))) as db:
        yield db.store


def _count(blobs) -> int:
    if isinstance(blobs, BlobStore):
        return sum(1 for p in blobs.root.rglob("*") if p.is_file())
    with blobs.pool.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM callosum_blobs").fetchone()["n"]


def test_round_trip_and_deduplication(blobs):
    frame = (np.arange(32 * 24 * 3) % 251).astype(np.uint8).reshape(24, 32, 3)
    ref = blobs.put_png(frame)
    assert blobs.put_png(frame.copy()) == ref and _count(blobs) == 1  # same bytes, stored once
    assert np.array_equal(blobs.get_png(ref), frame)
    assert blobs.get_json(blobs.put_json({"b": 1, "a": [1.5]})) == {"a": [1.5], "b": 1}
    assert blobs.get_text(blobs.put_text("x\n", "jsonl")) == "x\n" and _count(blobs) == 3


def test_missing_malformed_and_damaged_blobs_are_errors(blobs):
    with pytest.raises(StoreError, match="malformed"):
        blobs.get("../etc/passwd")
    with pytest.raises(StoreError, match="is missing from"):
        blobs.get("0" * 64 + ".png")
    ref = blobs.put(b"original", "txt")
    if isinstance(blobs, BlobStore):
        blobs.path(ref).write_bytes(b"tampered")
    else:
        with blobs.pool.connection() as conn:
            conn.execute("UPDATE callosum_blobs SET data = %s WHERE ref = %s", (b"tampered", ref))
    with pytest.raises(StoreError, match="is damaged"):
        blobs.get(ref)


def test_a_postgres_session_can_keep_its_blobs_in_a_shared_directory(tmp_path, postgres_base, monkeypatch):
    from agent.turns.sessions import SessionDB
    from tests.pg_util import fresh_database

    monkeypatch.setenv("CALLOSUM_BLOBS", str(tmp_path / "shared"))
    with SessionDB(fresh_database(postgres_base)) as db:
        assert isinstance(db.store, BlobStore) and db.store.root == tmp_path / "shared"
