"""The one place frames become files: H.264 MP4 and PNG (RGB, 16-bit depth, segmentation labels)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image


def open_mp4(path: str | Path, fps: int):
    """An imageio writer for H.264 MP4 that any player opens (yuv420p, even sizes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return imageio.get_writer(path, fps=fps, codec="libx264", quality=8, pixelformat="yuv420p",
                              macro_block_size=2, ffmpeg_log_level="error")


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], fps: int) -> int:
    """Write (H, W, 3) uint8 frames to `path`; returns how many were written."""
    count = 0
    with open_mp4(path, fps) as writer:
        for rgb in frames:
            writer.append_data(rgb)
            count += 1
    return count


def png_bytes(image: np.ndarray) -> bytes:
    """Deterministic, lossless PNG encoding of an (H, W, 3) uint8 or (H, W) uint8/uint16 image."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def read_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to an array (RGB uint8, or single-channel as stored)."""
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("L", "I;16", "I"):
        image = image.convert("RGB")
    return np.asarray(image)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write one image as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))
