"""Frame helpers shared by the adapters: resampling, control-video colouring and the seam metric."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
from PIL import Image


def pick_indices(n_in: int, n_out: int) -> list[int]:
    """Nearest-neighbour indices that spread ``n_out`` samples evenly over ``n_in`` frames."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"frame counts must be positive, got n_in={n_in}, n_out={n_out}")
    if n_out == 1:
        return [0]
    return [int(round(i * (n_in - 1) / (n_out - 1))) for i in range(n_out)]


def resample(frames: Sequence, n_out: int) -> list:
    """Pick ``n_out`` frames evenly from ``frames`` (repeats when stretching, skips when shrinking)."""
    return [frames[i] for i in pick_indices(len(frames), n_out)]


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an HxWx3 uint8 image with Lanczos (nearest for 1-channel label-like images is not needed here)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.LANCZOS))


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """Convert a float frame in [0, 1] (diffusers' ``output_type='np'``) to HxWx3 uint8."""
    if frame.dtype == np.uint8:
        return frame
    return (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def depth_video(depths: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Depth maps as grey RGB frames, near = bright, with one range for the whole segment.

    A shared range keeps brightness stable over time; the far plane (background) maps to black.
    """
    stack = np.stack([np.asarray(d, dtype=np.float32) for d in depths])
    finite = stack[np.isfinite(stack)]
    if finite.size == 0:
        return [np.zeros(d.shape + (3,), np.uint8) for d in depths]
    near, far = np.percentile(finite, 1), np.percentile(finite, 99)
    scale = max(far - near, 1e-6)
    grey = 1.0 - np.clip((np.nan_to_num(stack, nan=far, posinf=far) - near) / scale, 0.0, 1.0)
    grey = (grey * 255 + 0.5).astype(np.uint8)
    return [np.repeat(g[..., None], 3, axis=2) for g in grey]


def label_color(label: str) -> tuple[int, int, int]:
    """A stable colour per entity id, so an entity keeps its colour across steps and sessions."""
    digest = hashlib.sha256(label.encode()).digest()
    return tuple(64 + b % 192 for b in digest[:3])


def segmentation_video(segs: Sequence[np.ndarray], labels: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Segmentation maps (indices into each frame's labels, -1 background) as colour frames."""
    out = []
    for seg, names in zip(segs, labels):
        palette = np.array([label_color(n) for n in names] + [(0, 0, 0)], dtype=np.uint8)
        idx = np.where(seg < 0, len(names), seg)
        out.append(palette[idx])
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images; identical images give 100."""
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes differ, {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else min(100.0, float(10.0 * np.log10(255.0**2 / mse)))


def _box(x: np.ndarray, k: int) -> np.ndarray:
    c = np.cumsum(np.cumsum(np.pad(x, ((1, 0), (1, 0))), axis=0), axis=1)
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> float:
    """Mean structural similarity of the luma of two uint8 images (uniform window, standard constants)."""
    if a.shape != b.shape:
        raise ValueError(f"ssim: shapes differ, {a.shape} vs {b.shape}")
    weights = np.array([0.299, 0.587, 0.114])
    x = a.astype(np.float64) @ weights if a.ndim == 3 else a.astype(np.float64)
    y = b.astype(np.float64) @ weights if b.ndim == 3 else b.astype(np.float64)
    k = min(window, x.shape[0], x.shape[1])
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _box(x, k), _box(y, k)
    vx, vy = _box(x * x, k) - mx * mx, _box(y * y, k) - my * my
    cov = _box(x * y, k) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(np.mean(s))
