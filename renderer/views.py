"""Depth and segmentation maps made visible: grey depth and one flat colour per entity.

These turn a :class:`~renderer.geometry.GeometryFrame`'s metric depth and label indices into RGB
images for a screen (the streaming server's depth and segmentation views). The exact maps go to
files through :mod:`renderer.media` (16-bit depth PNG in millimetres, indexed segmentation PNG).
"""

from __future__ import annotations

import colorsys

import numpy as np

BACKGROUND = (0, 0, 0)
"""Colour of pixels where nothing is hit, in both views."""


def palette(n: int) -> np.ndarray:
    """`n` distinct, saturated RGB colours (uint8, shape (n, 3)), the same for the same `n`.

    Hues step by the golden angle, so neighbouring label indices get far-apart colours, and the
    lightness alternates so that even a long list stays tellable apart.
    """
    out = np.zeros((max(n, 0), 3), dtype=np.uint8)
    for i in range(max(n, 0)):
        hue = (0.03 + i * 0.381966) % 1.0
        light = (0.55, 0.42, 0.68)[i % 3]
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.75)
        out[i] = (round(r * 255), round(g * 255), round(b * 255))
    return out


def hex_colour(rgb) -> str:
    """'#rrggbb' for an RGB triple of 0-255 integers."""
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def segmentation_rgb(segmentation: np.ndarray, labels: list[str]) -> tuple[np.ndarray, dict[str, str]]:
    """(H, W, 3) uint8 image with each label index in its palette colour, and the legend
    {entity id: '#rrggbb'}. Index -1 (nothing hit) is black."""
    colours = np.vstack([palette(len(labels)), np.array([BACKGROUND], dtype=np.uint8)])
    index = np.where((segmentation >= 0) & (segmentation < len(labels)), segmentation, len(labels))
    legend = {label: hex_colour(colours[i]) for i, label in enumerate(labels)}
    return colours[index], legend


def depth_rgb(depth: np.ndarray, near: float, far: float, hit: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 grey image of metric depth: `near` and closer white, `far` and beyond black.

    ``hit``: a boolean mask of pixels where a surface was hit; the others are black.
    """
    if not 0 <= near < far:
        raise ValueError(f"depth range must satisfy 0 <= near < far, got near={near}, far={far}")
    scaled = 1.0 - (np.asarray(depth, dtype=np.float32) - near) / (far - near)
    grey = np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if hit is not None:
        grey = np.where(hit, grey, 0).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)
