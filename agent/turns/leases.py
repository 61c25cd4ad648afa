"""Single-writer sessions: one driver per session at a time, enforced where checkpoints are written.

A driver (``callosum interact``, a served session, a re-plan) takes the session's *lease*: a row in
``callosum_leases`` with its label, host, pid, a random instance id of its process, its heartbeat and
a *generation* that grows with every new driver. Every checkpoint the driver writes carries its lease
token in the run config, and the store's guarded saver checks the token in the same transaction as
the write: a driver whose lease was taken over, released (closed) or never held cannot write. A
second driver gets :class:`SessionBusy` naming the first; ``take_over`` moves the lease (the old
driver then gets :class:`SessionLost` at its next write and nothing of its turn is kept). A driver
whose heartbeat stopped for :data:`LEASE_TTL_S` holds nothing; so does one whose process is known
to be gone (the SQLite store sees its pid on this host, the Postgres store sees its connection
close). The table itself lives in each store (:mod:`agent.turns.stores`).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def _ttl() -> float:
    raw = os.environ.get("CALLOSUM_LEASE_TTL_S", "30")
    try:
        ttl = float(raw)
    except ValueError:
        ttl = -1.0
    if not 1.0 <= ttl <= 3600.0:
        raise ValueError(f"CALLOSUM_LEASE_TTL_S={raw!r} is not valid: give seconds between 1 and 3600 (default 30)")
    return ttl


LEASE_KEY = "callosum_lease"
"""The run-config key (under ``configurable``) that carries a driver's lease token."""
LEASE_TTL_S = _ttl()
"""A lease whose heartbeat is older than this is free (its driver hung or its host went away);
``CALLOSUM_LEASE_TTL_S`` sets it."""
HEARTBEAT_S = min(5.0, LEASE_TTL_S / 3)
"""How often a driver renews its lease."""
HOST = socket.gethostname()
INSTANCE = secrets.token_hex(6)
"""A random id of this process: with the host and the pid it names a driver across machines."""


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


def new_lease(name: str, generation: int) -> Lease:
    return Lease(name, secrets.token_hex(8), generation)


@dataclass(frozen=True)
class Holder:
    """A lease row as read back, with its liveness judged by the store that holds it."""

    generation: int
    owner: str
    label: str
    pid: int
    host: str
    since: float
    released: bool
    live: bool
    """True while its driver can still write: not released, heartbeat fresh, process not known gone."""

    def describe(self, name: str) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return (f"session {name!r} is driven by {self.label} (pid {self.pid} on {self.host}) since {since}; "
                f"watch it read-only (`callosum sessions show {name}`, or the server's spectator link), or "
                f"drive it from here with --take-over (`callosum interact --session {name} --take-over`, or "
                f"POST /api/sessions/{name}/open?take_over=true); the other driver's unsaved turn is then dropped")


def check_write(held: Holder | None, name: str, token: str | None) -> None:
    """Refuse a checkpoint write to session `name` that its lease (`held`, read inside the write's
    transaction) does not allow. With a token: the lease must be exactly that one, still held.
    Without one (admin commands: rewind, recover of an idle session): nobody may be driving it."""
    if token is None:
        if held is not None and held.live:
            raise SessionBusy(held.describe(name))
        return
    if held is None or held.released or f"{held.generation}:{held.owner}" != token:
        why = ("it was closed" if held is not None and held.released and token.startswith(f"{held.generation}:")
               else f"{held.label} (pid {held.pid} on {held.host}) took it over" if held is not None
               else "it has no driver")
        raise SessionLost(f"session {name!r} is no longer driven from here ({why}); this turn was not saved")


class Heartbeat:
    """Renews a lease every :data:`HEARTBEAT_S` on a daemon thread; calls `on_lost` once if it is gone.

    `table` is a store's lease table: ``beat(lease) -> bool`` and ``transient`` (the errors that mean
    "try again at the next beat")."""

    def __init__(self, table, lease: Lease, on_lost: Callable[[str], None] | None = None):
        self.table, self.lease, self.on_lost = table, lease, on_lost
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                ours = self.table.beat(self.lease)
            except self.table.transient:  # busy, locked or disconnected for a moment: try at the next beat
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
