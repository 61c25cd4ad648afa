"""One streamed frame: the world rendered from a pose, shown as colour, depth or segmentation, as JPEG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from renderer.geometry import GeometryRenderer, Pose
from renderer.colourmaps import depth_rgb, segmentation_rgb
from server.protocol import PoseMsg
from simulator.scene import Scene
from simulator.world import World


def depth_range(scene: Scene) -> tuple[float, float]:
    """Distances drawn white and black in the depth view, from the scene camera's framing."""
    cam = scene.camera
    d = float(np.linalg.norm(np.subtract(cam.position, cam.look_at)))
    return round(0.4 * d, 3), round(2.0 * d, 3)


def render_view(renderer: GeometryRenderer, world: World, scene: Scene, view: str, *, pose: Pose | None,
                stereo: bool, ipd: float, quality: int) -> tuple[np.ndarray, bytes, dict]:
    """(image, JPEG bytes, frame header fields) for `view`: rgb, depth or segmentation."""
    frame = renderer.render(world, pose=pose, stereo=stereo, ipd=ipd, depth=view == "depth",
                            segmentation=view != "rgb")
    image, extra = frame.rgb, {}
    if view == "depth":
        near, far = extra["depth_range"] = depth_range(scene)
        image = depth_rgb(frame.depth, near, far, hit=frame.segmentation >= 0)
    elif view == "segmentation":
        image, extra["legend"] = segmentation_rgb(frame.segmentation, frame.labels)
    return image, jpeg(image, quality), extra


def jpeg(image: np.ndarray, quality: int) -> bytes:
    """`image` (RGB, uint8) as JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def is_scene_camera(scene: Scene, pose: Pose | None, eps: float = 1e-6) -> bool:
    """True when `pose` (None: the scene camera) sees what the scene camera sees, so a frame the turn
    rendered from the scene camera can be sent instead of rendering the same view again."""
    if pose is None:
        return True
    home = Pose.from_camera(scene.camera)
    return all(np.allclose(a, b, atol=eps) for a, b in
               ((pose.position, home.position), (pose.forward, home.forward), (pose.up, home.up)))


def same_pose(a: PoseMsg, b: PoseMsg, eps: float = 1e-7) -> bool:
    """True when `b` would render the same frame as `a` (a still head sends its pose every display frame)."""
    return (a.stereo == b.stereo and abs(a.ipd - b.ipd) <= eps
            and all(abs(x - y) <= eps for x, y in zip(a.position + a.orientation, b.position + b.orientation)))
