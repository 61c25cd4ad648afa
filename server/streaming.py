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
import io
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from starlette.websockets import WebSocket

from server.codec import VideoEncoder
from server.protocol import FrameHeader, pack_frame

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


class Frame:
    """One rendered frame, encoded on demand: JPEG once for every JPEG client (cached), H.264 by each
    video client's own encoder. Encoding happens on the senders' worker threads, not the render thread."""

    def __init__(self, header: FrameHeader, rgb: np.ndarray, depth: bytes = b"", quality: int = 80):
        self.header, self.rgb, self.depth, self.quality = header, rgb, depth, quality
        self._packed: bytes | None = None
        self._lock = threading.Lock()
        self.encode_ms = 0.0
        """Time the JPEG took (ms), once encoded."""

    def packed_jpeg(self) -> bytes:
        """The binary frame message with a JPEG image (encoded once, whoever asks first)."""
        with self._lock:
            if self._packed is None:
                t0 = time.perf_counter()
                buf = io.BytesIO()
                Image.fromarray(self.rgb).save(buf, "JPEG", quality=self.quality)
                self.encode_ms = (time.perf_counter() - t0) * 1000.0
                self._packed = pack_frame(self.header, buf.getvalue(), self.depth)
            return self._packed

    def packed_video(self, encoder: VideoEncoder) -> bytes:
        """The binary frame message with the next access unit of `encoder`'s H.264 stream."""
        data, key = encoder.encode(self.rgb)
        header = self.header.model_copy(update={"format": "h264", "key": key})
        return pack_frame(header, data, self.depth)


class Outbox:
    """What is waiting to go to one client: a bounded message queue and one frame slot."""

    def __init__(self, websocket: WebSocket, role: str, max_messages: int = MAX_PENDING_MESSAGES):
        self.ws = websocket
        self.role = role
        self.messages: collections.deque[str] = collections.deque()
        self.max_messages = max_messages
        self.frame: Frame | None = None
        self.codec = "jpeg"
        self.encoder: VideoEncoder | None = None
        self.sent_bytes, self.sent_since = 0, time.monotonic()
        """Frame bytes sent since the client's last stream report (what it is compared with)."""
        self.state: str | None = None
        self.stats = ClientStats()
        self.wake = asyncio.Event()
        self.closed = False
        self.overflowed = False
        self.connected_at = time.time()

    def set_codec(self, codec: str, age_ms: float | None = None, kbps: float | None = None) -> None:
        """The client's choice of encoding, and its report on how frames arrive (adapts the bitrate)."""
        if codec != self.codec:
            self.codec = codec
            self.encoder = VideoEncoder() if codec == "h264" else None
        now = time.monotonic()
        sent_kbps = self.sent_bytes * 8 / 1000 / max(1e-3, now - self.sent_since)
        self.sent_bytes, self.sent_since = 0, now
        if self.encoder is not None:
            self.encoder.adapt(age_ms, kbps, sent_kbps)

    def _pack(self, frame: Frame) -> bytes:
        encoder = self.encoder
        return frame.packed_video(encoder) if encoder is not None else frame.packed_jpeg()

    def put_frame(self, data: Frame) -> None:
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
                    frame, self.frame = self.frame, None
                    data = await asyncio.to_thread(self._pack, frame)
                    await asyncio.wait_for(self.ws.send_bytes(data), SEND_TIMEOUT_S)
                    self.sent_bytes += len(data)
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
    last_frame: Frame | None = None
    """The newest frame, handed to clients as they join."""

    def add(self, outbox: Outbox) -> None:
        self.clients.add(outbox)
        if self.last_frame is not None:
            outbox.put_frame(self.last_frame)

    def remove(self, outbox: Outbox) -> None:
        self.clients.discard(outbox)
        outbox.close()

    def frame(self, data: Frame) -> None:
        self.last_frame = data
        for c in self.clients:
            c.put_frame(data)

    def message(self, text: str) -> None:
        for c in self.clients:
            c.put_message(text)

    def state(self, text: str) -> None:
        for c in self.clients:
            c.put_state(text)
