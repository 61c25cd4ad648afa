"""Per-client outboxes: latest frame wins, bounded message queues, one sender task per client.

The session's render thread never waits on a client. It hands each frame to the event loop, which
drops it into every client's single frame slot (overwriting an unsent one) and wakes that
client's sender task. A slow client therefore gets the newest frame; a dead one times out alone.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

log = logging.getLogger("callosum.server")

MAX_PENDING_MESSAGES = 64
SEND_TIMEOUT_S = 10.0


@dataclass
class ClientStats:
    """Counters for one client (exposed in the session listing and the bench)."""

    frames_sent: int = 0
    frames_dropped: int = 0
    """Frames overwritten in the slot before this client could take them."""
    messages_sent: int = 0
    messages_dropped: int = 0
    """Pongs and error replies dropped because the client was not reading them."""


class Outbox:
    """What is waiting to go to one client: a bounded message queue and one frame slot."""

    def __init__(self, websocket: WebSocket, role: str, max_messages: int = MAX_PENDING_MESSAGES):
        self.ws = websocket
        self.role = role
        self.messages: collections.deque[str] = collections.deque()
        self.max_messages = max_messages
        self.frame: bytes | None = None
        self.state: str | None = None
        self.stats = ClientStats()
        self.wake = asyncio.Event()
        self.closed = False
        self.overflowed = False
        self.connected_at = time.time()

    def put_frame(self, data: bytes) -> None:
        if self.frame is not None:
            self.stats.frames_dropped += 1
        self.frame = data
        self.wake.set()

    def put_state(self, text: str) -> None:
        """States supersede each other too: only the newest unsent one is kept."""
        self.state = text
        self.wake.set()

    def put_message(self, text: str, droppable: bool = False) -> None:
        """Queue a message. Replies to the client's own messages (pongs, errors) are `droppable`:
        they are dropped once the queue is half full, so a flood cannot push out narration."""
        if droppable and len(self.messages) >= self.max_messages // 2:
            self.stats.messages_dropped += 1
            return
        if len(self.messages) >= self.max_messages:
            self.overflowed = True  # the sender closes the socket: this client cannot keep up
        else:
            self.messages.append(text)
        self.wake.set()

    async def run(self) -> None:
        """Send until closed; messages first, then the newest state, then the newest frame."""
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                if self.overflowed:
                    await asyncio.wait_for(self.ws.close(code=1013, reason="client too slow: message queue full"),
                                           SEND_TIMEOUT_S)
                    return
                while self.messages and not self.closed:
                    await asyncio.wait_for(self.ws.send_text(self.messages.popleft()), SEND_TIMEOUT_S)
                    self.stats.messages_sent += 1
                if self.state is not None:
                    text, self.state = self.state, None
                    await asyncio.wait_for(self.ws.send_text(text), SEND_TIMEOUT_S)
                if self.frame is not None:
                    data, self.frame = self.frame, None
                    await asyncio.wait_for(self.ws.send_bytes(data), SEND_TIMEOUT_S)
                    self.stats.frames_sent += 1
        except (asyncio.TimeoutError, OSError, RuntimeError) as exc:
            log.info("client dropped (%s): %s", type(exc).__name__, exc)
        except Exception as exc:  # a closed socket raises assorted types across servers
            log.info("client send ended (%s): %s", type(exc).__name__, exc)
        finally:
            self.closed = True

    def close(self) -> None:
        self.closed = True
        self.wake.set()


@dataclass
class Broadcaster:
    """The clients of one session; all methods run on the event loop thread."""

    clients: set[Outbox] = field(default_factory=set)
    last_frame: bytes | None = None
    """The newest frame, handed to clients as they join."""

    def add(self, outbox: Outbox) -> None:
        self.clients.add(outbox)
        if self.last_frame is not None:
            outbox.put_frame(self.last_frame)

    def remove(self, outbox: Outbox) -> None:
        self.clients.discard(outbox)
        outbox.close()

    def frame(self, data: bytes) -> None:
        self.last_frame = data
        for c in self.clients:
            c.put_frame(data)

    def message(self, text: str) -> None:
        for c in self.clients:
            c.put_message(text)

    def state(self, text: str) -> None:
        for c in self.clients:
            c.put_state(text)
