"""The one place frames become files: H.264 MP4 and PNG (RGB, 16-bit depth, segmentation labels)."""

from __future__ import annotations

import io
import json
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
    """Decode PNG bytes to an array (RGB uint8, or single-channel values as stored: grey, 16-bit
    depth, or a palette PNG's indices)."""
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("L", "I;16", "I", "P"):  # single-channel values stay as stored
        image = image.convert("RGB")
    return np.asarray(image)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write one image as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))


# ---- depth and segmentation maps as files --------------------------------------------------

DEPTH_MAX_MM = 65535
"""The largest depth a 16-bit PNG holds, in millimetres (65.535 m)."""


def depth_png_bytes(depth_m: np.ndarray, hit: np.ndarray | None = None) -> bytes:
    """16-bit greyscale PNG of metric depth in millimetres (rounded, clipped to 1..65535).

    0 means no surface: the pixels where ``hit`` is False (nothing but sky along that ray).
    """
    depth = np.asarray(depth_m, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"depth must be an (H, W) array of metres, got shape {depth.shape}")
    mm = np.clip(np.rint(depth * 1000.0), 1, DEPTH_MAX_MM)
    mm = np.where(np.isfinite(depth), mm, 0)
    if hit is not None:
        mm = np.where(hit, mm, 0)
    return png_bytes(mm.astype(np.uint16))


def write_depth_png(path: str | Path, depth_m: np.ndarray, hit: np.ndarray | None = None) -> None:
    """Write :func:`depth_png_bytes` to `path`, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(depth_png_bytes(depth_m, hit))


def segmentation_png_bytes(segmentation: np.ndarray, labels: list[str]) -> bytes:
    """Indexed PNG of a segmentation: pixel value 0 is nothing hit, value i + 1 is ``labels[i]``.

    Up to 255 labels it is a palette PNG (8-bit values, shown in distinct colours by any image
    viewer); beyond that a 16-bit greyscale PNG. Either way the array read back holds the values.
    """
    from renderer.colourmaps import label_colours

    seg = np.asarray(segmentation)
    if seg.ndim != 2:
        raise ValueError(f"segmentation must be an (H, W) array of label indices, got shape {seg.shape}")
    values = np.where((seg >= 0) & (seg < len(labels)), seg + 1, 0)
    if len(labels) > 255:
        return png_bytes(values.astype(np.uint16))
    image = Image.fromarray(values.astype(np.uint8))  # "L"; putpalette makes it "P"
    colours = np.vstack([np.zeros((1, 3), np.uint8), label_colours(labels)])
    image.putpalette(colours.flatten().tolist())
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def segmentation_legend(labels: list[str]) -> dict:
    """The legend that goes with :func:`segmentation_png_bytes`: pixel value → entity id."""
    from renderer.colourmaps import hex_colour, label_colours

    colours = label_colours(labels)
    return {"schema_version": 1, "background": 0,
            "values": {str(i + 1): label for i, label in enumerate(labels)},
            "colors": {label: hex_colour(colours[i]) for i, label in enumerate(labels)}}


def write_segmentation_png(path: str | Path, segmentation: np.ndarray, labels: list[str]) -> None:
    """Write :func:`segmentation_png_bytes` to `path`, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(segmentation_png_bytes(segmentation, labels))


class MapWriter:
    """A run's depth and segmentation maps as numbered PNGs in two folders (either may be None).

    Segmentation values stay the same for the whole run (an entity that appears later gets the next
    value), so the one ``legend.json`` written by :meth:`close` holds for every frame.
    """

    def __init__(self, depth_dir: str | Path | None, seg_dir: str | Path | None):
        self.depth_dir = Path(depth_dir) if depth_dir is not None else None
        self.seg_dir = Path(seg_dir) if seg_dir is not None else None
        self.count = 0
        self.ids: dict[str, int] = {}

    def write(self, depth: np.ndarray, segmentation: np.ndarray, labels: list[str]) -> None:
        """One frame: metric depth (m), label indices (-1 nothing hit) and the labels they index."""
        name = f"{self.count:06d}.png"
        if self.depth_dir is not None:
            write_depth_png(self.depth_dir / f"depth_{name}", depth, hit=segmentation >= 0)
        if self.seg_dir is not None:
            for label in labels:
                self.ids.setdefault(label, len(self.ids))
            remap = np.array([self.ids[label] for label in labels] + [-1], dtype=np.int64)
            index = np.where((segmentation >= 0) & (segmentation < len(labels)), segmentation, len(labels))
            write_segmentation_png(self.seg_dir / f"seg_{name}", remap[index], list(self.ids))
        self.count += 1

    def close(self) -> None:
        """Write the segmentation legend (pixel value → entity id) for the whole run."""
        if self.seg_dir is not None:
            self.seg_dir.mkdir(parents=True, exist_ok=True)
            legend = segmentation_legend(list(self.ids))
            (self.seg_dir / "legend.json").write_text(json.dumps(legend, indent=2) + "\n", encoding="utf-8")
