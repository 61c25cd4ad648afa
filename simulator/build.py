"""Building a world's MuJoCo spec: the ground, the lights, the options and each body's geometry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator._mujoco import mujoco
from simulator.materials import Surface, floor_contact, surface
from simulator.scene import GROUND_ID, EntitySpec, GroundSpec, Scene

__all__ = ["GROUND_ID", "base_spec", "euler_to_quat", "geom_size", "hex_to_rgba", "set_surface", "entity_surface",
           "ground_surface"]


def hex_to_rgba(color: str) -> list[float]:
    return [int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] + [1.0]


def euler_to_quat(degrees: Sequence[float]) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_euler2Quat(quat, np.deg2rad(np.asarray(degrees, dtype=float)), "xyz")
    return quat


def geom_size(e: EntitySpec) -> list[float]:
    if e.shape == "box":
        return [s / 2 for s in e.size]
    if e.shape == "sphere":
        return [e.size[0], 0.0, 0.0]
    return [e.size[0], e.size[1] / 2, 0.0]


def entity_surface(e: EntitySpec, timestep: float) -> Surface:
    """The contact settings of an entity (its material, friction and bounciness)."""
    return surface(e.shape, e.size, e.material, e.friction, e.bounciness, timestep)


def ground_surface(ground: GroundSpec, timestep: float) -> Surface:
    """The contact settings of the floor."""
    return surface("plane", (), ground.material, ground.friction, ground.bounciness, timestep)


def set_surface(geom, s: Surface) -> None:
    """Write a surface onto a spec geom (a geom of no bounciness keeps MuJoCo's default contact)."""
    geom.friction = list(s.friction)
    geom.condim = s.condim
    geom.solmix = s.solmix
    if s.solref is not None:
        geom.solref = list(s.solref)
    else:
        geom.solref = [0.02, 1.0]


def floor_is_set(ground: GroundSpec) -> bool:
    """Whether the floor has its own surface (else MuJoCo's default mixing rules apply to it)."""
    return ground.material is not None or ground.friction is not None or ground.bounciness is not None


def sync_floor_pairs(spec: mujoco.MjSpec, entities: Sequence[EntitySpec], ground: GroundSpec, timestep: float) -> None:
    """Give every body an explicit contact with a floor that has its own surface (MuJoCo takes the
    larger of two frictions, so an icy floor needs its own contacts): the dynamic floor contact of
    each body is excluded and a pair with the combined surface added. None for a default floor."""
    for item in list(spec.pairs) + list(spec.excludes):
        spec.delete(item)
    if not floor_is_set(ground):
        return
    floor = ground_surface(ground, timestep)
    for e in entities:
        c = floor_contact(entity_surface(e, timestep), floor)
        slide, torsion, roll = c.friction
        spec.add_pair(name=f"{GROUND_ID}~{e.id}", geomname1=GROUND_ID, geomname2=e.id, condim=c.condim,
                      friction=[slide, slide, torsion, roll, roll], solref=list(c.solref))
        spec.add_exclude(name=f"{GROUND_ID}~{e.id}", bodyname1="world", bodyname2=e.id)


def ground_texture(s: mujoco.MjSpec, color: str) -> None:
    """The floor's checker texture in `color` (and a shade darker)."""
    rgb1 = hex_to_rgba(color)[:3]
    s.add_texture(
        name="ground", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=rgb1, rgb2=[c * 0.85 for c in rgb1], width=256, height=256,
    )


def base_spec(scene: Scene, ground: GroundSpec | None = None) -> mujoco.MjSpec:
    """Options, visuals, lights and the ground (`ground`, else the scene's): everything but the entities."""
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
    ground = ground or scene.ground
    ground_texture(s, ground.color)
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
    floor = s.worldbody.add_geom(name=GROUND_ID, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[20, 20, 0.1],
                                 material="ground")
    set_surface(floor, ground_surface(ground, scene.physics.timestep))
    return s
