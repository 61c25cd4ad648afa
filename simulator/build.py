"""Building a world's MuJoCo spec: the ground, the lights, the options and each body's geometry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator._mujoco import mujoco
from simulator.parts import part_masses
from simulator.scene import EntitySpec, Scene

GROUND_ID = "ground"


def hex_to_rgba(color: str) -> list[float]:
    return [int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] + [1.0]


def euler_to_quat(degrees: Sequence[float]) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_euler2Quat(quat, np.deg2rad(np.asarray(degrees, dtype=float)), "xyz")
    return quat


GEOM_TYPES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
}


def geom_size(shape: str, size: Sequence[float]) -> list[float]:
    """MuJoCo's half-size convention for a primitive of the scene's `size`."""
    if shape == "box":
        return [s / 2 for s in size]
    if shape == "sphere":
        return [size[0], 0.0, 0.0]
    return [size[0], size[1] / 2, 0.0]


def geom_names(e: EntitySpec) -> list[str]:
    """The MuJoCo geom names of an entity: its id, or '<id>/<part index>' for each part."""
    return [f"{e.id}/{i}" for i in range(len(e.parts))] if e.parts else [e.id]


def add_geoms(body, e: EntitySpec) -> None:
    """Add the entity's geom (or one geom per part) to its MuJoCo `body`."""
    if not e.parts:
        geom = body.add_geom(name=e.id, type=GEOM_TYPES[e.shape], size=geom_size(e.shape, e.size),
                             rgba=hex_to_rgba(e.color))
        if e.friction is not None:
            geom.friction = [e.friction, 0.005, 0.0001]
        if e.mass is not None:
            geom.mass = e.mass
        return
    masses = part_masses(e.parts, e.mass) if e.mass is not None else [None] * len(e.parts)
    for name, p, mass in zip(geom_names(e), e.parts, masses):
        geom = body.add_geom(name=name, type=GEOM_TYPES[p.shape], size=geom_size(p.shape, p.size),
                             pos=list(p.position), quat=list(euler_to_quat(p.orientation)),
                             rgba=hex_to_rgba(p.color or e.color))
        friction = p.friction if p.friction is not None else e.friction
        if friction is not None:
            geom.friction = [friction, 0.005, 0.0001]
        if mass is not None:
            geom.mass = mass


def base_spec(scene: Scene) -> mujoco.MjSpec:
    """Options, visuals, lights and the ground: everything but the entities."""
    s = mujoco.MjSpec()
    s.modelname = scene.name
    s.option.timestep = scene.physics.timestep
    s.option.gravity = list(scene.physics.gravity)
    s.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    s.stat.extent = 4.0
    s.stat.center = list(scene.camera.look_at)
    s.visual.global_.fovy = scene.camera.fov
    s.visual.global_.offwidth = max(scene.render.width, 640)
    s.visual.global_.offheight = max(scene.render.height, 480)
    s.visual.map.znear = 0.005
    s.visual.map.zfar = 50.0
    s.visual.headlight.ambient = [0.35, 0.35, 0.35]
    s.visual.headlight.diffuse = [0.45, 0.45, 0.45]
    s.visual.headlight.specular = [0.05, 0.05, 0.05]
    ground = scene.ground
    rgb1 = hex_to_rgba(ground.color)[:3]
    s.add_texture(
        name="ground", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=rgb1, rgb2=[c * 0.85 for c in rgb1], width=256, height=256,
    )
    s.add_texture(
        name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX, builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=[0.62, 0.74, 0.86], rgb2=[0.95, 0.96, 0.98], width=64, height=384,
    )
    mat = s.add_material(name="ground", texrepeat=[8, 8], reflectance=0.05)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "ground"
    s.worldbody.add_light(
        name="sun", pos=[1.5, -1.0, 6.0], dir=[-0.25, 0.15, -1.0], castshadow=True,
        diffuse=[0.6, 0.6, 0.6], specular=[0.2, 0.2, 0.2],
    )
    s.worldbody.add_geom(
        name=GROUND_ID, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[20, 20, 0.1], material="ground",
        friction=[ground.friction, 0.005, 0.0001],
    )
    return s
