"""One streamed frame: the world rendered from a pose, shown as colour, depth or segmentation.

The flat page's frames come from the scene camera's field of view; a headset's from each eye's own
frustum (``render_xr``), with the exact depth plane that local 6-DoF reprojection needs.
"""

from __future__ import annotations

import numpy as np

from renderer.geometry import EyeView, GeometryFrame, GeometryRenderer, Pose, clip_range
from renderer.colourmaps import depth_rgb, segmentation_rgb
from server.protocol import DepthPlane, EyeFrame, PoseMsg
from server.headpose import head_pose, home_pitch
from server.xr import XrTarget, depth_plane, depth_step, quat_from_rotation_vector
from simulator.scene import Scene
from simulator.world import World


def depth_range(scene: Scene) -> tuple[float, float]:
    """Distances drawn white and black in the depth view, from the scene camera's framing."""
    cam = scene.camera
    d = float(np.linalg.norm(np.subtract(cam.position, cam.look_at)))
    return round(0.4 * d, 3), round(2.0 * d, 3)


def _visible(frame: GeometryFrame, scene: Scene, view: str) -> tuple[np.ndarray, dict]:
    """The image `view` shows (rgb, depth as grey, or segmentation colours) and its header fields."""
    image, extra = frame.rgb, {}
    if view == "depth":
        near, far = extra["depth_range"] = depth_range(scene)
        image = depth_rgb(frame.depth, near, far, hit=frame.segmentation >= 0)
    elif view == "segmentation":
        image, extra["legend"] = segmentation_rgb(frame.segmentation, frame.labels)
    return image, extra


def render_view(renderer: GeometryRenderer, world: World, scene: Scene, view: str, *, pose: Pose | None,
                stereo: bool, ipd: float) -> tuple[np.ndarray, dict]:
    """(image, frame header fields) for `view` (rgb, depth or segmentation) with the scene camera's field of view."""
    frame = renderer.render(world, pose=pose, stereo=stereo, ipd=ipd, depth=view == "depth",
                            segmentation=view != "rgb")
    return _visible(frame, scene, view)


def render_xr(renderer: GeometryRenderer, world: World, scene: Scene, view: str,
              target: XrTarget) -> tuple[np.ndarray, bytes, dict]:
    """(image, depth plane bytes, header fields) for a headset: each eye from its own pose and frustum."""
    eyes = tuple(EyeView(head_pose(scene, e.position, e.orientation), e.tangents) for e in target.eyes)
    frame = renderer.render(world, eyes=eyes, depth=True, segmentation=view != "rgb")
    image, extra = _visible(frame, scene, view)
    step = depth_step(target.size[0])
    data, cols, rows = depth_plane(frame.depth, clip_range(world.model)[1], step)
    extra["depth"] = DepthPlane(width=cols, height=rows, step=step, bytes=len(data))
    extra["eyes"] = [EyeFrame(position=e.position, orientation=e.orientation, tangents=e.tangents)
                     for e in target.eyes]
    return image, data, extra


def scene_camera_eye(scene: Scene, width: int, height: int) -> EyeFrame:
    """The scene camera as a headset eye: the XR origin, looking along XR -z pitched to the camera's
    pitch, with the camera's vertical field of view at `width`/`height`."""
    tan_y = float(np.tan(np.deg2rad(scene.camera.fov) / 2))
    tan_x = tan_y * width / height
    q = quat_from_rotation_vector((home_pitch(scene), 0.0, 0.0))
    return EyeFrame(position=(0.0, 0.0, 0.0), orientation=tuple(float(v) for v in q),
                    tangents=(-tan_x, tan_x, -tan_y, tan_y))


def generated_xr(generated: np.ndarray, renderer: GeometryRenderer, world: World,
                 scene: Scene) -> tuple[np.ndarray, bytes, dict]:
    """A generated (video model) frame for a headset: the image as the scene camera saw it, with the
    geometry pass's exact depth from that camera for the world as it is now, so the client reprojects
    it into each eye with correct head motion. (image, depth plane bytes, header fields)."""
    frame = renderer.render(world, depth=True)
    step = depth_step(renderer.width)
    data, cols, rows = depth_plane(frame.depth, clip_range(world.model)[1], step)
    extra = {"depth": DepthPlane(width=cols, height=rows, step=step, bytes=len(data)),
             "eyes": [scene_camera_eye(scene, renderer.width, renderer.height)]}
    return np.ascontiguousarray(generated), data, extra


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
    if (a.views is None) != (b.views is None) or a.viewport != b.viewport:
        return False
    if a.views is not None and (len(a.views) != len(b.views) or not all(
            abs(x - y) <= eps for u, v in zip(a.views, b.views)
            for x, y in zip(u.position + u.orientation + u.tangents, v.position + v.orientation + v.tangents))):
        return False
    return (a.stereo == b.stereo and abs(a.ipd - b.ipd) <= eps
            and all(abs(x - y) <= eps for x, y in zip(a.position + a.orientation, b.position + b.orientation)))
