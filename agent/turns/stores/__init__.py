"""Where sessions are kept: a SQLite file (the embedded default) or a Postgres database, chosen by
the ``--db`` value (or ``CALLOSUM_DB``). Each store holds LangGraph's checkpoints, the session
registry, the lease table (:mod:`agent.turns.leases`) and a blob store, behind one interface
(:class:`~agent.turns.stores.base.Store`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.turns.stores.base import SessionDBError, Store, redact

__all__ = ["SCHEMES", "SessionDBError", "Store", "default_db", "open_store", "resolve_db"]

SCHEMES = ("postgresql://", "postgres://", "sqlite:///")
"""The URL schemes --db accepts (a plain path is a SQLite file)."""
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")


def default_db() -> str:
    """``$CALLOSUM_DB``, else ``$CALLOSUM_HOME/sessions.db``, else the user data dir's sessions.db."""
    url = os.environ.get("CALLOSUM_DB")
    if url:
        return url
    home = os.environ.get("CALLOSUM_HOME")
    if home:
        return str(Path(home) / "sessions.db")
    import platformdirs

    return str(Path(platformdirs.user_data_dir("callosum", appauthor=False)) / "sessions.db")


def resolve_db(value: str | Path | None) -> str | Path:
    """A Postgres URL (str) or a SQLite file path (Path) for a --db value; a URL of any other scheme,
    or a mangled one (``postgresql:/host``), is a :class:`SessionDBError` naming the schemes."""
    if value is None:
        value = default_db()
    if isinstance(value, Path):
        value = str(value)
    m = _URL.match(value)
    if m is None or (len(m.group(1)) == 1 and os.name == "nt"):  # C:/ is a Windows drive
        return Path(value).expanduser()
    scheme = m.group(1).lower()
    if scheme in ("postgresql", "postgres") and value[m.end():].startswith("/"):
        return value
    if scheme == "sqlite" and value.startswith("sqlite:///"):
        return Path(value[len("sqlite://"):]).expanduser()
    raise SessionDBError(f"--db {value!r} is not a supported database URL: use postgresql://USER@HOST:PORT/DBNAME "
                         f"(or postgres://), sqlite:///PATH, or a plain file path for SQLite")


def open_store(value: str | Path | None, *, create: bool = True, serde=None) -> Store:
    """The store a --db value names (see :func:`resolve_db`); `serde` is the checkpointer's serialiser."""
    target = resolve_db(value)
    if isinstance(target, str):
        try:
            from agent.turns.stores.postgres import PostgresStore
        except ImportError as exc:
            raise SessionDBError(f"--db {redact(target)!r} needs the postgres extra (pip install "
                                 f"'callosum[postgres]'): {exc}") from None
        return PostgresStore(target, serde=serde)
    from agent.turns.stores.sqlite import SqliteStore

    return SqliteStore(target, create=create, serde=serde)
