"""A client's H.264 stream (PyAV / libx264, ``zerolatency``): one encoder per client, so each client's
stream only references frames that client was sent, and its bitrate follows what reaches it.

The encoder makes no B-frames and no lookahead (one access unit out per frame in), so a frame is
on the wire as soon as it is encoded; a new client, a new size or a new bitrate starts on a keyframe.
"""

from __future__ import annotations

import fractions
import time

import numpy as np

START_KBPS = 8_000
"""Bitrate a stream starts at (kbit/s)."""
MIN_KBPS, MAX_KBPS = 500, 60_000
"""The range the adaptation keeps the bitrate in (kbit/s)."""
TARGET_AGE_MS = 120.0
"""Frame age (render to shown) above which the bitrate is lowered."""
ADAPT_EVERY_S = 1.0
"""Seconds between bitrate changes (each restarts the stream on a keyframe)."""
KEY_EVERY = 240
"""A keyframe at least this often (frames), so a decoder that lost its way recovers."""


def have_h264() -> bool:
    """True when PyAV with libx264 is installed (``pip install av``; the wheels bundle libx264)."""
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


class VideoEncoder:
    """H.264 for one client: ``encode(rgb)`` returns one Annex B access unit and whether it is a keyframe."""

    def __init__(self, kbps: int = START_KBPS):
        self.kbps = kbps
        self._ctx = None
        self._size: tuple[int, int] | None = None
        self._frames = 0
        self._adapted_at = time.monotonic()
        self.encode_ms = 0.0
        """The last frame's encode time (ms)."""

    def _open(self, width: int, height: int) -> None:
        import av

        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = fractions.Fraction(1, 1000)  # pts in ms of real time: the rate control sees real frame gaps
        ctx.framerate = fractions.Fraction(72)
        ctx.bit_rate = self.kbps * 1000
        ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline",
                       "x264-params": f"keyint={KEY_EVERY}:vbv-maxrate={self.kbps}:vbv-bufsize={self.kbps // 10}"}
        ctx.open()
        self._ctx, self._size, self._frames, self._pts = ctx, (width, height), 0, -1

    def encode(self, rgb: np.ndarray, pts_ms: int | None = None) -> tuple[bytes, bool]:
        """One frame in, its access unit out; `pts_ms` is the frame's time (default: now)."""
        import av

        t0 = time.perf_counter()
        h, w = rgb.shape[:2]
        if self._ctx is None or self._size != (w, h):
            self._open(w, h)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
        self._pts = max(self._pts + 1, int(time.monotonic() * 1000) if pts_ms is None else pts_ms)
        frame.pts = self._pts
        self._frames += 1
        packets = self._ctx.encode(frame)
        data = b"".join(bytes(p) for p in packets)
        key = any(p.is_keyframe for p in packets)
        self.encode_ms = (time.perf_counter() - t0) * 1000.0
        return data, key

    def adapt(self, age_ms: float | None, kbps: float | None, sent_kbps: float | None = None) -> None:
        """Follow the client's report against what was sent to it (`sent_kbps`, same stretch of time):
        while frames arrive late *and* the client received clearly less than was sent (the link is
        the bottleneck), lower the bitrate by a quarter; while they arrive fresh and the client takes
        what is sent, raise it by a tenth. Late frames that did all arrive (a client slow to decode or
        draw) keep the bitrate: fewer bits would not make them sooner."""
        now = time.monotonic()
        if age_ms is None or now - self._adapted_at < ADAPT_EVERY_S:
            return
        taken = kbps is None or sent_kbps is None or kbps >= 0.8 * sent_kbps
        target = self.kbps
        if age_ms > TARGET_AGE_MS and not taken:
            target = int(self.kbps * 0.75)
        elif age_ms <= TARGET_AGE_MS and taken:
            target = int(self.kbps * 1.1)
        target = max(MIN_KBPS, min(MAX_KBPS, target))
        if abs(target - self.kbps) >= 0.05 * self.kbps:
            self.kbps, self._ctx, self._adapted_at = target, None, now  # reopens on the next frame (a keyframe)

    def close(self) -> None:
        self._ctx = None
