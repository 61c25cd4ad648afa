"""Head pose → camera: where a WebXR viewer's head puts the scene camera."""

from __future__ import annotations

import math

import numpy as np

from renderer.geometry import Pose
from simulator.scene import Scene


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def camera_yaw(scene: Scene) -> float:
    """Rotation about z taking MuJoCo +y (an identity XR pose's forward) to the camera's heading."""
    f = np.asarray(scene.camera.look_at, float) - np.asarray(scene.camera.position, float)
    if math.hypot(f[0], f[1]) < 1e-9:
        return 0.0
    return math.atan2(f[1], f[0]) - math.pi / 2


def home_pitch(scene: Scene) -> float:
    """The pitch of the scene camera (radians, negative looks down)."""
    f = np.asarray(scene.camera.look_at, float) - np.asarray(scene.camera.position, float)
    return math.atan2(f[2], math.hypot(f[0], f[1]))


def head_pose(scene: Scene, position, orientation) -> Pose:
    """A WebXR head pose, anchored so the XR origin is the scene camera and XR -z its heading.

    Pitch and roll stay the viewer's own, so the horizon stays level in a headset.
    """
    local = Pose.from_quaternion(position, orientation)
    rz = _rot_z(camera_yaw(scene))
    origin = np.asarray(scene.camera.position, float)
    return Pose(origin + rz @ local.position, rz @ local.forward, rz @ local.up)
