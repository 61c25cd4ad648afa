"""Building a world's MuJoCo spec: the ground, the lights, the options and each body's geometry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator._mujoco import mujoco
from simulator.materials import Surface, floor_contact, material, surface
from simulator.parts import part_masses
from simulator.scene import GROUND_ID, EntitySpec, GroundSpec, Scene

__all__ = ["GROUND_ID", "add_geoms", "base_spec", "entity_surfaces", "euler_to_quat", "geom_names", "geom_size",
           "ground_surface", "hex_to_rgba", "set_surface"]


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


def add_geoms(body, e: EntitySpec, timestep: float) -> None:
    """Add the entity's geom (or one geom per part) to its MuJoCo `body`, each with its surface (material,
    friction, bounciness) and its mass: the given one (shared among parts by volume), else by density."""
    surfaces = dict(entity_surfaces(e, timestep))
    if not e.parts:
        geom = body.add_geom(name=e.id, type=GEOM_TYPES[e.shape], size=geom_size(e.shape, e.size),
                             rgba=hex_to_rgba(e.color))
        _set_mass(geom, e.mass, e.material)
        set_surface(geom, surfaces[e.id])
        return
    masses = part_masses(e.parts, e.mass) if e.mass is not None else [None] * len(e.parts)
    for name, p, mass in zip(geom_names(e), e.parts, masses):
        geom = body.add_geom(name=name, type=GEOM_TYPES[p.shape], size=geom_size(p.shape, p.size),
                             pos=list(p.position), quat=list(euler_to_quat(p.orientation)),
                             rgba=hex_to_rgba(p.color or e.color))
        _set_mass(geom, mass, e.material)
        set_surface(geom, surfaces[name])


def _set_mass(geom, mass: float | None, material_name: str | None) -> None:
    if mass is not None:
        geom.mass = mass
    elif material_name:
        geom.density = material(material_name).density


def entity_surfaces(e: EntitySpec, timestep: float) -> list[tuple[str, Surface]]:
    """(geom name, contact settings) for each geom of an entity: its material, friction and bounciness
    (a part's own friction first)."""
    if not e.parts:
        return [(e.id, surface(e.shape, e.size, e.material, e.friction, e.bounciness, timestep))]
    return [(name, surface(p.shape, p.size, e.material, p.friction if p.friction is not None else e.friction,
                           e.bounciness, timestep))
            for name, p in zip(geom_names(e), e.parts)]


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
        for name, s in entity_surfaces(e, timestep):
            c = floor_contact(s, floor)
            slide, torsion, roll = c.friction
            spec.add_pair(name=f"{GROUND_ID}~{name}", geomname1=GROUND_ID, geomname2=name, condim=c.condim,
                          friction=[slide, slide, torsion, roll, roll], solref=list(c.solref))
        spec.add_exclude(name=f"{GROUND_ID}~{e.id}", bodyname1="world", bodyname2=e.id)


def ground_texture(s: mujoco.MjSpec, color: str) -> None:
    """The floor's checker texture in `color` (and a shade darker)."""
    rgb1 = hex_to_rgba(color)[:3]
    s.add_texture(
        name="ground", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=rgb1, rgb2=[c * 0.85 for c in rgb1], width=256, height=256,
    )


LIGHTING = {  # headlight ambient, headlight diffuse, sun diffuse, sky top, sky horizon
    "day": (0.35, 0.45, (0.6, 0.6, 0.6), (0.62, 0.74, 0.86), (0.95, 0.96, 0.98)),
    "night": (0.12, 0.18, (0.22, 0.26, 0.38), (0.02, 0.03, 0.08), (0.08, 0.1, 0.2)),
    "indoors": (0.42, 0.4, (0.45, 0.44, 0.42), (0.78, 0.77, 0.75), (0.9, 0.89, 0.87)),
    "sunset": (0.3, 0.35, (0.75, 0.5, 0.3), (0.35, 0.3, 0.5), (0.98, 0.65, 0.4)),
}
"""The light of each `Scene.lighting`."""


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
    ambient, diffuse, sun, sky_top, sky_low = LIGHTING[scene.lighting]
    s.visual.headlight.ambient = [ambient] * 3
    s.visual.headlight.diffuse = [diffuse] * 3
    s.visual.headlight.specular = [0.05, 0.05, 0.05]
    ground = ground or scene.ground
    ground_texture(s, ground.color)
    s.add_texture(
        name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX, builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=list(sky_top), rgb2=list(sky_low), width=64, height=384,
    )
    mat = s.add_material(name="ground", texrepeat=[8, 8], reflectance=0.05)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "ground"
    s.worldbody.add_light(
        name="sun", pos=[1.5, -1.0, 6.0], dir=[-0.25, 0.15, -1.0], castshadow=True,
        diffuse=list(sun), specular=[0.2, 0.2, 0.2],
    )
    floor = s.worldbody.add_geom(name=GROUND_ID, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[20, 20, 0.1],
                                 material="ground")
    set_surface(floor, ground_surface(ground, scene.physics.timestep))
    return s
