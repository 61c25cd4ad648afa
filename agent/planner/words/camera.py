"""The scene camera as directions on the ground: what "left", "right", "toward" and "away" mean.

Screen directions are taken on the floor plane: "right" is the camera's right vector, "away" is
its viewing direction with the height dropped. Pure arithmetic, no MuJoCo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.scene import CameraSpec

Vec = tuple[float, float, float]


def unit(v: tuple[float, ...]) -> Vec:
    n = math.sqrt(sum(x * x for x in v))
    if n < 1e-12:
        return (0.0, 0.0, 0.0)
    return tuple(x / n for x in v)  # type: ignore[return-value]


def dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b))


@dataclass(frozen=True)
class ScreenAxes:
    """Unit vectors on the floor plane (z = 0) for the camera's screen directions."""

    right: Vec
    """Right on screen."""
    away: Vec
    """Away from the viewer (into the picture)."""
    eye: Vec
    """The camera position."""

    def vector(self, word: str) -> Vec | None:
        """The world direction of a camera word: left, right, toward, away, up, down."""
        r, a = self.right, self.away
        return {
            "right": r, "left": (-r[0], -r[1], 0.0), "away": a, "toward": (-a[0], -a[1], 0.0),
            "up": (0.0, 0.0, 1.0), "down": (0.0, 0.0, -1.0),
        }.get(word)

    def screen_x(self, p: tuple[float, ...]) -> float:
        """How far right on screen a point lies (metres along `right`)."""
        return dot(p[:2], self.right[:2])

    def depth(self, p: tuple[float, ...]) -> float:
        """Distance of a point from the eye along the floor plane."""
        return math.hypot(p[0] - self.eye[0], p[1] - self.eye[1])

    def scene_frame(self, snap_degrees: float = 25.0) -> tuple[Vec, Vec]:
        """(right, away) for relations between bodies ("the pin behind pin 1"): the scene's own axes
        when the camera looks within `snap_degrees` of one (a lane, a row, a shelf are laid out along
        them, and a person reads "behind" along the layout), else the camera's."""
        ax, ay = self.away[0], self.away[1]
        if max(abs(ax), abs(ay)) < math.cos(math.radians(snap_degrees)):
            return self.right, self.away
        away = (math.copysign(1.0, ax), 0.0, 0.0) if abs(ax) >= abs(ay) else (0.0, math.copysign(1.0, ay), 0.0)
        return (away[1], -away[0], 0.0), away


def screen_axes(camera: CameraSpec | None) -> ScreenAxes:
    """The screen directions of `camera` (the scene default when None)."""
    cam = camera or CameraSpec()
    f = [cam.look_at[i] - cam.position[i] for i in range(3)]
    away = unit((f[0], f[1], 0.0))
    if away == (0.0, 0.0, 0.0):  # looking straight down: screen up is +y
        away = (0.0, 1.0, 0.0)
    right = (away[1], -away[0], 0.0)
    return ScreenAxes(right=right, away=away, eye=tuple(cam.position))  # type: ignore[arg-type]


def direction_words(v: tuple[float, ...], axes: ScreenAxes, share: float = 0.35) -> list[str]:
    """Camera words for displacement `v`: each axis holding at least `share` of its length, largest first."""
    n = math.sqrt(sum(x * x for x in v))
    if n < 1e-9:
        return []
    parts = [
        (dot(v, axes.right) / n, "right", "left"),
        (dot(v, axes.away) / n, "away", "toward"),
        (v[2] / n, "up", "down"),
    ]
    out = []
    for c, pos, neg in sorted(parts, key=lambda p: -abs(p[0])):
        if abs(c) >= share:
            out.append(pos if c > 0 else neg)
    return out


DIRECTION_PHRASES: dict[str, str] = {
    "left": "to the left", "right": "to the right", "toward": "toward the camera", "away": "away from the camera",
    "up": "upward", "down": "downward", "forward": "forward", "back": "backward",
}
"""The one table of direction words in prose ('left' -> 'to the left'), for narration and outcomes."""
