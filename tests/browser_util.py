"""Shared by the browser tests: Debian's chromium under Playwright, and reading the page's canvas."""

from __future__ import annotations

import io
import shutil
import time

import numpy as np

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

BALL_DROP = """\
name: ball-drop
description: A red ball hangs in the air over a floor and falls as soon as time runs.
camera: {position: [0, -3.0, 1.2], look_at: [0, 0, 1.0], fov: 45}
render: {width: 320, height: 240, fps: 24}
entities:
- {id: ball, shape: sphere, size: [0.2], position: [0, 0, 1.5], color: "#e01010", description: a red ball}
- {id: post, shape: box, size: [0.1, 0.1, 0.5], position: [0.8, 0.3, 0.5], fixed: true, color: "#2060e0",
   description: a blue post}
steps:
- {action: The ball falls., duration: 1.0}
"""


def canvas_pixels(page) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator("#view").screenshot())).convert("RGB"), dtype=np.int16)


def red_mask(img: np.ndarray) -> np.ndarray:
    """The red ball's pixels."""
    return (img[..., 0] > 140) & (img[..., 1] < 80) & (img[..., 2] < 80)


def red_centroid(img: np.ndarray) -> tuple[float, float] | None:
    """(x, y) of the red ball's pixels, as fractions of the image, or None if none are seen."""
    mask = red_mask(img)
    if mask.sum() < 20:
        return None
    ys, xs = np.nonzero(mask)
    return xs.mean() / img.shape[1], ys.mean() / img.shape[0]


def wait_pixels(page, check, timeout: float = 15.0, what: str = "the canvas to change"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        img = canvas_pixels(page)
        if check(img):
            return img
        page.wait_for_timeout(150)
    raise AssertionError(f"timed out waiting for {what}")
