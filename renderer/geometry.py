"""The geometry pass: RGB, metric depth and per-entity segmentation from MuJoCo's renderer.

The renderer only reads the world. It keeps one GL context, one ``MjrContext`` and one
``MjvScene`` for its whole life, and rebuilds the ``MjrContext`` only when the model's assets change,
so spawning or removing bodies costs no new renderer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from renderer.gl import gl_context
from simulator._mujoco import mujoco
from simulator.scene import CameraSpec, Scene
from simulator.world import World

Preset = Literal["fast", "quality"]
_PRESETS = {
    # offscreen MSAA samples, shadow map size, shadows on, reflections on
    "fast": (0, 512, False, False),
    "quality": (4, 2048, True, True),
}


@dataclass(frozen=True)
class Pose:
    """A camera pose: eye position and orientation as forward and up vectors (world frame)."""

    position: np.ndarray
    """Eye position (m)."""
    forward: np.ndarray
    """Unit viewing direction."""
    up: np.ndarray
    """Unit up direction, orthogonal to forward."""

    @staticmethod
    def look_at(position, target, up=(0.0, 0.0, 1.0)) -> Pose:
        p = np.asarray(position, dtype=float)
        f = np.asarray(target, dtype=float) - p
        f /= np.linalg.norm(f)
        right = np.cross(f, up)
        if np.linalg.norm(right) < 1e-9:  # looking straight up or down
            right = np.cross(f, (0.0, 1.0, 0.0))
        right /= np.linalg.norm(right)
        return Pose(p, f, np.cross(right, f))

    @staticmethod
    def from_camera(camera: CameraSpec) -> Pose:
        return Pose.look_at(camera.position, camera.look_at)

    @staticmethod
    def from_quaternion(position, quat_xyzw) -> Pose:
        """A WebXR-style pose: y-up, -z forward, quaternion (x, y, z, w), mapped to MuJoCo's z-up."""
        x, y, z, w = (float(q) for q in quat_xyzw)
        rot = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])
        to_mj = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)  # (x, y, z)_xr -> (x, -z, y)
        fwd = to_mj @ rot @ np.array([0.0, 0.0, -1.0])
        up = to_mj @ rot @ np.array([0.0, 1.0, 0.0])
        return Pose(to_mj @ np.asarray(position, dtype=float), fwd, up)

    @property
    def right(self) -> np.ndarray:
        return np.cross(self.forward, self.up)


@dataclass(frozen=True)
class EyeView:
    """One eye of a headset: where it is and its (possibly off-centre) frustum as view-plane tangents."""

    pose: Pose
    """The eye's position and orientation (world frame)."""
    tangents: tuple[float, float, float, float]
    """(left, right, bottom, top): the frustum's edges at unit distance along the view axis (left and
    bottom are negative for a frustum around the axis); a WebXR view's projection matrix gives them."""


@dataclass
class GeometryFrame:
    """One rendered view of the world (for stereo, left and right eyes side by side)."""

    rgb: np.ndarray
    """(H, W, 3) uint8 colour image; W doubles for a side-by-side stereo pair."""
    depth: np.ndarray | None = None
    """(H, W) float32 metric depth along the view axis (m); far plane where nothing is hit."""
    segmentation: np.ndarray | None = None
    """(H, W) int32 index into `labels`; -1 where nothing is hit (the sky)."""
    labels: list[str] = field(default_factory=list)
    """Entity id for each segmentation index; 'ground' is the floor plane."""
    stereo: bool = False
    """True when the image holds a left|right pair."""

    def eyes(self) -> tuple[GeometryFrame, GeometryFrame]:
        """Split a stereo frame into (left, right) frames."""
        if not self.stereo:
            raise ValueError("eyes() needs a stereo frame; render with stereo=True")
        w = self.rgb.shape[1] // 2

        def half(a, s):
            return None if a is None else a[:, s]

        left, right = slice(0, w), slice(w, 2 * w)
        return tuple(
            GeometryFrame(self.rgb[:, s], half(self.depth, s), half(self.segmentation, s), self.labels)
            for s in (left, right)
        )


class GeometryRenderer:
    """Renders a :class:`World` from the scene camera or any :class:`Pose`.

    ``width``/``height`` default to the scene's render size; one eye of a stereo pair has that size.
    Use it from one thread (the one that made it).
    """

    def __init__(self, scene: Scene, width: int | None = None, height: int | None = None, preset: Preset = "quality"):
        if preset not in _PRESETS:
            raise ValueError(f"preset must be one of {sorted(_PRESETS)}, got {preset!r}")
        self.scene = scene
        self.width = width or scene.render.width
        self.height = height or scene.render.height
        self.preset = preset
        self._samples, self._shadowsize, self._shadows, self._reflections = _PRESETS[preset]
        self._gl = gl_context(2 * self.width, self.height)
        self._model_key = None
        self._ctx = None
        self._scene = None
        self._option = mujoco.MjvOption()
        self._pert = mujoco.MjvPerturb()
        self._cam = mujoco.MjvCamera()
        self._lut_key = None
        self.default_pose = Pose.from_camera(scene.camera)

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.free()
            self._ctx = None
        if self._gl is not None:
            self._gl.free()
            self._gl = None

    def __enter__(self) -> GeometryRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- per-model resources --------------------------------------------------------------

    def _prepare(self, world: World) -> None:
        model = world.model
        key = (model.ntex, model.nmat, model.nmesh, model.nhfield, model.nskin)
        if self._ctx is None or key != self._model_key:
            tuned = _copy_visual(model, self._samples, self._shadowsize, 2 * self.width, self.height)
            if self._ctx is not None:
                self._ctx.free()
            self._ctx = mujoco.MjrContext(tuned, mujoco.mjtFontScale.mjFONTSCALE_100)
            mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._ctx)
            self._scene = mujoco.MjvScene(tuned, maxgeom=2000)
            self._model_key = key

    def _lut(self, world: World) -> tuple[np.ndarray, list[str]]:
        """Map MuJoCo geom ids to label indices (cached per model)."""
        if self._lut_key != (id(world.model), world.model_version):
            names = world.geom_entity_ids()
            self._labels = [n for n in dict.fromkeys(names) if n is not None]
            index = {n: i for i, n in enumerate(self._labels)}
            self._geom_lut = np.array([index.get(n, -1) if n else -1 for n in names] + [-1], dtype=np.int32)
            self._lut_key = (id(world.model), world.model_version)
        return self._geom_lut, self._labels

    # ---- rendering ------------------------------------------------------------------------

    def render(
        self,
        world: World,
        *,
        pose: Pose | None = None,
        stereo: bool = False,
        ipd: float = 0.064,
        depth: bool = False,
        segmentation: bool = False,
        eyes: tuple[EyeView, ...] | None = None,
    ) -> GeometryFrame:
        """Render the world as it is now. Stereo eyes sit ±ipd/2 along the camera's right axis.

        ``eyes``: one or two :class:`EyeView` rendered instead (side by side when two), each from its
        own pose with its own frustum (a headset's views); ``pose``, ``stereo`` and ``ipd`` are then unused.
        """
        if not 0 <= ipd <= 0.5:
            raise ValueError(f"ipd is the eye separation in metres (0 to 0.5), got {ipd}")
        self._gl.make_current()
        self._prepare(world)
        w, h = self.width, self.height
        if eyes is not None:
            if len(eyes) not in (1, 2):
                raise ValueError(f"eyes must hold one or two EyeView, got {len(eyes)}")
            stereo = len(eyes) == 2
        full = mujoco.MjrRect(0, 0, 2 * w if stereo else w, h)
        scn = self._scene
        mujoco.mjv_updateScene(world.model, world.data, self._option, self._pert, self._cam,
                               mujoco.mjtCatBit.mjCAT_ALL, scn)
        if eyes is not None:
            for i, eye in enumerate((tuple(eyes) * 2)[:2]):  # a mono view fills both cameras the same
                self._place_eye(scn.camera[i], eye.pose.position, eye.pose, eye.tangents, world.model)
        else:
            self._place_cameras(scn, pose or self.default_pose, ipd if stereo else 0.0, world.model)
        scn.stereo = mujoco.mjtStereo.mjSTEREO_SIDEBYSIDE if stereo else mujoco.mjtStereo.mjSTEREO_NONE
        scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self._shadows
        scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = self._reflections
        scn.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = True

        rgb = np.empty((h, full.width, 3), dtype=np.uint8)
        zbuf = np.empty((h, full.width), dtype=np.float32) if depth else None
        mujoco.mjr_render(full, scn, self._ctx)
        mujoco.mjr_readPixels(rgb, zbuf, full, self._ctx)
        frame = GeometryFrame(rgb=np.flipud(rgb), stereo=stereo)
        if depth:
            frame.depth = self._linear_depth(np.flipud(zbuf), world.model)
        if segmentation:
            frame.segmentation, frame.labels = self._segment(world, full)
        return frame

    def _place_cameras(self, scn, pose: Pose, ipd: float, model) -> None:
        tan_y = float(np.tan(np.deg2rad(self.scene.camera.fov) / 2))
        tan_x = tan_y * self.width / self.height
        for i, sign in enumerate((-0.5, 0.5)):
            self._place_eye(scn.camera[i], pose.position + sign * ipd * pose.right, pose,
                            (-tan_x, tan_x, -tan_y, tan_y), model)

    @staticmethod
    def _place_eye(cam, position, pose: Pose, tangents, model) -> None:
        """Aim one GL camera: MuJoCo draws glFrustum(center ± width, bottom, top) at the near plane."""
        near, far = clip_range(model)
        left, right, bottom, top = tangents
        cam.pos[:] = position
        cam.forward[:] = pose.forward
        cam.up[:] = pose.up
        cam.frustum_center = near * (left + right) / 2
        cam.frustum_width = near * (right - left) / 2
        cam.frustum_bottom = near * bottom
        cam.frustum_top = near * top
        cam.frustum_near = near
        cam.frustum_far = far
        cam.orthographic = 0

    @staticmethod
    def _linear_depth(zbuf: np.ndarray, model) -> np.ndarray:
        near, far = clip_range(model)
        return (near / (1.0 - zbuf * (1.0 - near / far))).astype(np.float32)

    def _segment(self, world: World, rect) -> tuple[np.ndarray, list[str]]:
        scn = self._scene
        scn.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = True
        scn.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = True
        try:
            ids = np.empty((rect.height, rect.width, 3), dtype=np.uint8)
            mujoco.mjr_render(rect, scn, self._ctx)
            mujoco.mjr_readPixels(ids, None, rect, self._ctx)
        finally:
            scn.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = False
            scn.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = False
        ids = np.flipud(ids).astype(np.int32)
        seg = ids[..., 0] + (ids[..., 1] << 8) + (ids[..., 2] << 16) - 1  # scene geom index, -1 = none
        geom_lut, labels = self._lut(world)
        scene_to_geom = np.full(scn.ngeom + 1, len(geom_lut) - 1, dtype=np.int32)
        for i in range(scn.ngeom):
            g = scn.geoms[i]
            if g.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                scene_to_geom[i] = g.objid
        seg = np.where((seg >= 0) & (seg < scn.ngeom), seg, scn.ngeom)
        return geom_lut[scene_to_geom[seg]], labels


def clip_range(model) -> tuple[float, float]:
    """(near, far) clip distances (m) the renderer draws with; depth is `far` where nothing is hit."""
    return model.vis.map.znear * model.stat.extent, model.vis.map.zfar * model.stat.extent


def _copy_visual(model, samples: int, shadowsize: int, width: int, height: int):
    """A copy of the model with the preset's offscreen settings (the world's model stays untouched)."""
    tuned = copy.copy(model)
    tuned.vis.quality.offsamples = samples
    tuned.vis.quality.shadowsize = shadowsize
    tuned.vis.global_.offwidth = max(width, tuned.vis.global_.offwidth)
    tuned.vis.global_.offheight = max(height, tuned.vis.global_.offheight)
    return tuned
