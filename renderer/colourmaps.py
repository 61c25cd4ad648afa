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


DISTINCT = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
            "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000", "#ffd8b1",
            "#4b6cb7", "#ffffff")
"""Twenty colours that stay tellable apart next to each other (after Trubetskoy's list)."""
GROUND = "#5f6675"
"""The floor plane's colour: a quiet grey, so the entities stand out."""


def palette(n: int) -> np.ndarray:
    """`n` distinct RGB colours (uint8, shape (n, 3)); colour i is the same whatever `n` is.

    The first twenty come from :data:`DISTINCT`; beyond that hues step by the golden angle with
    alternating lightness.
    """
    out = np.zeros((max(n, 0), 3), dtype=np.uint8)
    for i in range(max(n, 0)):
        if i < len(DISTINCT):
            out[i] = [int(DISTINCT[i][k:k + 2], 16) for k in (1, 3, 5)]
            continue
        hue = (0.03 + i * 0.381966) % 1.0
        r, g, b = colorsys.hls_to_rgb(hue, (0.55, 0.42, 0.68)[i % 3], 0.75)
        out[i] = (round(r * 255), round(g * 255), round(b * 255))
    return out


def label_colours(labels: list[str]) -> np.ndarray:
    """The colour of each label: 'ground' is :data:`GROUND`, the others take the palette in order."""
    colours = palette(len(labels))
    ground = [int(GROUND[k:k + 2], 16) for k in (1, 3, 5)]
    k = 0
    for i, label in enumerate(labels):
        if label == "ground":
            colours[i] = ground
        else:
            colours[i] = palette(k + 1)[k]
            k += 1
    return colours


def hex_colour(rgb) -> str:
    """'#rrggbb' for an RGB triple of 0-255 integers."""
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def segmentation_rgb(segmentation: np.ndarray, labels: list[str]) -> tuple[np.ndarray, dict[str, str]]:
    """(H, W, 3) uint8 image with each label index in its palette colour, and the legend
    {entity id: '#rrggbb'}. Index -1 (nothing hit) is black."""
    colours = np.vstack([label_colours(labels), np.array([BACKGROUND], dtype=np.uint8)])
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
