"""A headset's views on the server: each eye's frustum widened by a margin, the per-eye render size
negotiated from the headset's framebuffer under the server's cap, head-pose prediction, and the
exact depth plane sent with each frame for 6-DoF reprojection on the client.

All poses here are in WebXR's reference space (metres, y up, -z forward); ``server.headpose.head_pose``
maps them into the world.
"""

from __future__ import annotations

import collections
import math
import zlib
from dataclasses import dataclass

import numpy as np

from server.protocol import EyeMsg, PoseMsg

MARGIN = 0.15
"""Extra field rendered around each eye, as a fraction of its span (7.5 % on every side), so local
reprojection has pixels to use at the edges when the head moves."""
EYE_CAP = (2304, 2304)
"""The largest render per eye (px) a server makes, whatever the headset asks for."""
MIN_EYE = 32
"""The smallest render per eye (px)."""
PREDICT_MAX_MS = 150.0
"""Pose prediction looks at most this far ahead."""
PREDICT_MAX_TURN = 0.2
"""Largest predicted head rotation (rad) beyond the last pose."""
PREDICT_MAX_MOVE = 0.05
"""Largest predicted head translation (m) beyond the last pose."""
VELOCITY_WINDOW_MS = 60.0
"""Head velocity is measured over the poses of this last stretch of the client's clock."""
SKY_MM = 65535
"""Depth-plane value for pixels where nothing was hit (the sky)."""
SKY_FROM = 65.0
"""Depth (m) from which a pixel counts as sky (the skybox, the far plane): reprojected as a direction."""


def widen(tangents, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """An eye's frustum tangents (left, right, bottom, top) grown by `margin` of their span in all."""
    left, right, bottom, top = tangents
    dx, dy = (right - left) * margin / 2, (top - bottom) * margin / 2
    return left - dx, right + dx, bottom - dy, top + dy


def eye_size(viewport: tuple[int, int] | None, fallback: tuple[int, int], cap: tuple[int, int] = EYE_CAP,
             margin: float = MARGIN) -> tuple[int, int]:
    """Pixels per eye to render: the headset's viewport grown by the margin (same pixel density),
    scaled down to fit `cap`, in multiples of 8 (video codecs and the depth grid want that)."""
    w, h = viewport or fallback
    w, h = w * (1 + margin), h * (1 + margin)
    scale = min(1.0, cap[0] / w, cap[1] / h)
    return tuple(max(MIN_EYE, int(round(v * scale / 8)) * 8) for v in (w, h))


def depth_step(width: int) -> int:
    """Colour pixels per depth sample along each axis: a depth plane of about 256-460 columns per eye."""
    return 4 if width <= 1280 else 8


@dataclass(frozen=True)
class EyeTarget:
    """One eye as the server renders it: the (predicted) XR pose and the widened frustum."""

    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]
    tangents: tuple[float, float, float, float]


@dataclass(frozen=True)
class XrTarget:
    """What the next XR frame renders: each eye, and the size per eye."""

    eyes: tuple[EyeTarget, ...]
    size: tuple[int, int]

    def close_to(self, other: XrTarget | None, eps: float = 1e-6) -> bool:
        if other is None or other.size != self.size or len(other.eyes) != len(self.eyes):
            return False
        return all(abs(x - y) <= eps for a, b in zip(self.eyes, other.eyes)
                   for x, y in zip(a.position + a.orientation + a.tangents, b.position + b.orientation + b.tangents))


# ---- quaternions (x, y, z, w) ---------------------------------------------------------------------


def quat_mul(a, b) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def quat_conj(q) -> np.ndarray:
    return np.array([-q[0], -q[1], -q[2], q[3]])


def rotation_vector(q) -> np.ndarray:
    """The axis times angle (rad) of a unit quaternion, taking the short way round."""
    q = np.asarray(q, float) * (1.0 if q[3] >= 0 else -1.0)
    s = float(np.linalg.norm(q[:3]))
    return np.zeros(3) if s < 1e-12 else q[:3] / s * 2.0 * math.atan2(s, q[3])


def quat_from_rotation_vector(v) -> np.ndarray:
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    return np.concatenate([np.asarray(v) / angle * math.sin(angle / 2), [math.cos(angle / 2)]])


# ---- prediction -----------------------------------------------------------------------------------


class PosePredictor:
    """Extrapolates the head to the time its frame will be shown: the client's recent poses (on its own
    clock ``t``) give a linear and an angular velocity, the client's measured latency the horizon.

    Both eyes move with the head (one velocity for all), and the prediction is bounded, so a jumpy
    pose stream costs at most one slightly wrong frame, which local reprojection corrects."""

    def __init__(self) -> None:
        self.history: collections.deque[tuple[float, np.ndarray, np.ndarray]] = collections.deque(maxlen=16)

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """(m/s, rad/s as a rotation vector in the reference frame) over the last window; zero while the
        newest pose equals the one before (so a still head renders once, not once per display frame)."""
        if len(self.history) < 2:
            return np.zeros(3), np.zeros(3)
        t1, p1, q1 = self.history[-1]
        _, p2, q2 = self.history[-2]
        if np.abs(p1 - p2).max() < 1e-7 and np.abs(q1 - q2).max() < 1e-7:
            return np.zeros(3), np.zeros(3)  # the head is still right now: a jump just before is not a motion
        older = [h for h in self.history if t1 - h[0] <= VELOCITY_WINDOW_MS]
        t0, p0, q0 = older[0] if len(older) > 1 else self.history[-2]
        dt = (t1 - t0) / 1000.0
        if not 0.004 <= dt <= 0.25:
            return np.zeros(3), np.zeros(3)
        return (p1 - p0) / dt, rotation_vector(quat_mul(q1, quat_conj(q0))) / dt

    def predict(self, pose: PoseMsg, fallback: tuple[int, int], cap: tuple[int, int] = EYE_CAP) -> XrTarget:
        """The eyes to render for `pose` (a pose with ``views``), extrapolated by ``pose.latency_ms``."""
        if pose.t is not None:
            if self.history and pose.t <= self.history[-1][0]:
                self.history.clear()  # a new client clock
            self.history.append((pose.t, np.asarray(pose.position, float), np.asarray(pose.orientation, float)))
        ahead = min(PREDICT_MAX_MS, pose.latency_ms or 0.0) / 1000.0 if pose.t is not None else 0.0
        v, w = self.velocity()
        move, turn = v * ahead, w * ahead
        if np.linalg.norm(move) > PREDICT_MAX_MOVE:
            move *= PREDICT_MAX_MOVE / np.linalg.norm(move)
        if np.linalg.norm(turn) > PREDICT_MAX_TURN:
            turn *= PREDICT_MAX_TURN / np.linalg.norm(turn)
        dq = quat_from_rotation_vector(turn)
        head = np.asarray(pose.position, float)
        eyes = tuple(self._eye(e, head, move, dq) for e in pose.views)
        return XrTarget(eyes, eye_size(pose.viewport, fallback, cap))

    @staticmethod
    def _eye(eye: EyeMsg, head: np.ndarray, move: np.ndarray, dq: np.ndarray) -> EyeTarget:
        """The eye carried rigidly with the head: rotated by `dq` about the head, then moved by `move`."""
        offset = np.asarray(eye.position, float) - head
        rotated = quat_mul(quat_mul(dq, np.concatenate([offset, [0.0]])), quat_conj(dq))[:3]
        q = quat_mul(dq, eye.orientation)
        q /= np.linalg.norm(q)
        return EyeTarget(tuple(float(x) for x in head + move + rotated), tuple(float(x) for x in q),
                         widen(eye.tangents))


# ---- depth ----------------------------------------------------------------------------------------


def depth_plane(depth: np.ndarray, far: float, step: int) -> tuple[bytes, int, int]:
    """(zlib bytes, columns, rows) of the depth plane: every `step`-th pixel's metric depth at the
    centre of its step×step block, as little-endian uint16 millimetres; 65535 where nothing was hit or
    beyond 65 m (the skybox)."""
    c = step // 2
    sub = depth[c::step, c::step]
    mm = np.clip(np.rint(sub * 1000.0), 1, SKY_MM - 1)
    mm = np.where(sub >= min(far * 0.999, SKY_FROM), SKY_MM, mm).astype("<u2")
    return zlib.compress(mm.tobytes(), 1), mm.shape[1], mm.shape[0]
