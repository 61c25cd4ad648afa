"""Several OpenAI-compatible servers (vLLM or llama.cpp replicas) behind one backend.

Each plan goes to the next replica in turn that is neither known down nor still busy with a request
abandoned after a timeout; on a transient failure it goes on to the next one, so a stopped replica
costs one failed connection, not a turn. A replica marked down is health-checked (``GET /v1/models``)
before it is used again, at most every :data:`RECHECK_S`; a replica that times out is "slow", not
down, and gets nothing until its abandoned request may have ended (``busy_until``). Every replica gets the same seed for the
same request (``seed_for``), so the plan does not depend on which one answered (when the replicas
serve the same model and weights).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from agent.planner.backends.base import Backend, BackendError, BackendSlow, BackendUnavailable, Completion, PlanRequest
from agent.planner.backends.openai_compat import OpenAICompatBackend

RECHECK_S = 2.0
"""How often a replica marked down may be probed again."""


class ReplicaSet(Backend):
    """Round-robin over healthy replicas, failing over on transient errors."""

    name = "openai"
    can_score = False

    def __init__(self, replicas: Sequence[OpenAICompatBackend]):
        if not replicas:
            raise BackendError("no planner replicas given; pass --base-url URL[,URL...]")
        self.replicas = list(replicas)
        self.model, self.seed = replicas[0].model, replicas[0].seed
        self.structured = replicas[0].structured
        self._down_since: dict[int, float] = {}
        self._next = 0
        self._lock = threading.Lock()
        self.served_by: str | None = None
        """The base URL that answered the last request."""

    def _order(self) -> list[int]:
        with self._lock:
            start = self._next
            self._next = (self._next + 1) % len(self.replicas)
        return [(start + k) % len(self.replicas) for k in range(len(self.replicas))]

    def _usable(self, i: int) -> str | None:
        """None when replica `i` may take a request now, else why not."""
        r = self.replicas[i]
        wait = r.busy_until - time.monotonic()
        if wait > 0:
            return f"{r.base_url}: still busy with an abandoned request for up to {wait:.0f} s"
        down = self._down_since.get(i)
        if down is None:
            return None
        if time.monotonic() - down < RECHECK_S:
            return f"{r.base_url}: down (checked {time.monotonic() - down:.1f} s ago)"
        if r.probe() == "up":
            self._down_since.pop(i, None)
            return None
        self._down_since[i] = time.monotonic()
        return f"{r.base_url}: down (does not answer /v1/models)"

    def complete(self, request: PlanRequest) -> Completion:
        why: list[str] = []
        slow = True
        for i in self._order():
            skip = self._usable(i)
            if skip is not None:
                why.append(skip)
                slow = slow and "busy" in skip
                continue
            replica = self.replicas[i]
            try:
                reply = replica.complete(request)
            except BackendSlow as exc:
                why.append(str(exc))
                continue
            except BackendUnavailable as exc:
                self._down_since[i] = time.monotonic()
                why.append(str(exc))
                slow = False
                continue
            self.model, self.structured, self.served_by = replica.model, replica.structured, replica.base_url
            return reply
        error = BackendSlow if slow else BackendUnavailable
        raise error(f"no planner replica could answer ({len(self.replicas)} tried): " + "; ".join(why))

    def close(self) -> None:
        for r in self.replicas:
            r.close()
