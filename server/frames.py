"""One streamed frame: the world rendered from a pose, shown as colour, depth or segmentation, as JPEG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from renderer.geometry import GeometryRenderer, Pose
from renderer.views import depth_rgb, segmentation_rgb
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
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return image, buf.getvalue(), extra


def same_pose(a: PoseMsg, b: PoseMsg, eps: float = 1e-7) -> bool:
    """True when `b` would render the same frame as `a` (a still head sends its pose every display frame)."""
    return (a.stereo == b.stereo and abs(a.ipd - b.ipd) <= eps
            and all(abs(x - y) <= eps for x, y in zip(a.position + a.orientation, b.position + b.orientation)))
