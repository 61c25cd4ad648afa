"""The mutable world: a MuJoCo model built from a scene, advanced by events and time."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Sequence

import numpy as np

from simulator._mujoco import mujoco
from simulator.scene import (
    ApplyForceEvent,
    ApplyImpulseEvent,
    EntitySpec,
    Event,
    RemoveEvent,
    Scene,
    SetPropertyEvent,
    SetVelocityEvent,
    SpawnEvent,
    apply_to_registry,
    event_problem,
)
from simulator.state import EntityState, WorldState

SNAPSHOT_MAGIC = b"CLSM"
SNAPSHOT_VERSION = 1
_STATE_SIG = mujoco.mjtState.mjSTATE_INTEGRATION
_GEOM_TYPES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
}
GROUND_ID = "ground"


class EventError(ValueError):
    """An event that cannot apply to the current world; nothing was changed."""


class SnapshotError(ValueError):
    """A snapshot that does not belong to this scene or is damaged."""


def hex_to_rgba(color: str) -> list[float]:
    return [int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] + [1.0]


def euler_to_quat(degrees: Sequence[float]) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_euler2Quat(quat, np.deg2rad(np.asarray(degrees, dtype=float)), "xyz")
    return quat


def _geom_size(e: EntitySpec) -> list[float]:
    if e.shape == "box":
        return [s / 2 for s in e.size]
    if e.shape == "sphere":
        return [e.size[0], 0.0, 0.0]
    return [e.size[0], e.size[1] / 2, 0.0]


class World:
    """A MuJoCo world built from `scene`, with exact, deterministic stepping.

    Events apply at the start of a step; :meth:`run` then integrates and yields once per frame.
    Spawn, remove, mass and fixed changes go through ``MjSpec.recompile`` so every other body keeps
    its exact state. Read ``model`` and ``data`` for rendering; they are replaced on recompile, and
    ``model_version`` counts the replacements.
    """

    def __init__(self, scene: Scene):
        self.scene = scene
        self._step = 0
        self.model_version = 0
        self.entities: dict[str, EntitySpec] = {e.id: e for e in scene.entities}
        self._forces: dict[str, tuple[np.ndarray, int]] = {}
        self._quat_override: dict[str, np.ndarray] = {}
        self._build()
        for e in self.entities.values():
            self._set_linear_velocity(e.id, e.velocity)
        mujoco.mj_forward(self.model, self.data)

    # ---- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.spec = self._base_spec()
        for e in self.entities.values():
            self._add_body(e, quat=self._quat_override.get(e.id))
        self.model = self.spec.compile()
        self.data = mujoco.MjData(self.model)
        self._index()

    def _base_spec(self) -> mujoco.MjSpec:
        """Options, visuals, lights and the ground: everything but the entities."""
        s = mujoco.MjSpec()
        s.modelname = self.scene.name
        s.option.timestep = self.scene.physics.timestep
        s.option.gravity = list(self.scene.physics.gravity)
        s.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        s.stat.extent = 4.0
        s.stat.center = list(self.scene.camera.look_at)
        s.visual.global_.fovy = self.scene.camera.fov
        s.visual.global_.offwidth = max(self.scene.render.width, 640)
        s.visual.global_.offheight = max(self.scene.render.height, 480)
        s.visual.map.znear = 0.005
        s.visual.map.zfar = 50.0
        s.visual.headlight.ambient = [0.35, 0.35, 0.35]
        s.visual.headlight.diffuse = [0.45, 0.45, 0.45]
        s.visual.headlight.specular = [0.05, 0.05, 0.05]
        ground = self.scene.ground
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

    def _add_body(self, e: EntitySpec, pos=None, quat=None) -> None:
        body = self.spec.worldbody.add_body(
            name=e.id,
            pos=list(e.position) if pos is None else list(pos),
            quat=list(euler_to_quat(e.orientation) if quat is None else quat),
        )
        if not e.fixed:
            body.add_freejoint(name=e.id)
        geom = body.add_geom(
            name=e.id, type=_GEOM_TYPES[e.shape], size=_geom_size(e), rgba=hex_to_rgba(e.color),
        )
        if e.friction is not None:
            geom.friction = [e.friction, 0.005, 0.0001]
        if e.mass is not None:
            geom.mass = e.mass

    def _recompile(self) -> None:
        self.model, self.data = self.spec.recompile(self.model, self.data)
        self.model_version += 1
        self._index()

    def _index(self) -> None:
        m = self.model
        self._body = {eid: m.body(eid).id for eid in self.entities}
        self._geom = {eid: m.geom(eid).id for eid in self.entities}
        self._dof: dict[str, int | None] = {}
        self._qpos: dict[str, int | None] = {}
        for eid in self.entities:
            jnt = m.body_jntadr[self._body[eid]]
            self._dof[eid] = None if jnt < 0 else int(m.jnt_dofadr[jnt])
            self._qpos[eid] = None if jnt < 0 else int(m.jnt_qposadr[jnt])

    # ---- lookups --------------------------------------------------------------------------

    def geom_entity_ids(self) -> list[str | None]:
        """Entity id per MuJoCo geom id (the ground maps to 'ground')."""
        names: list[str | None] = [None] * self.model.ngeom
        names[self.model.geom(GROUND_ID).id] = GROUND_ID
        for eid, g in self._geom.items():
            names[g] = eid
        return names

    def mass(self, eid: str) -> float:
        return float(self.model.body_mass[self._body[eid]])

    def pose(self, eid: str) -> tuple[np.ndarray, np.ndarray]:
        """Exact (position, wxyz quaternion) from the integration state, not the cached kinematics."""
        adr = self._qpos[eid]
        if adr is None:
            b = self._body[eid]
            return self.model.body_pos[b].copy(), self.model.body_quat[b].copy()
        return self.data.qpos[adr : adr + 3].copy(), self.data.qpos[adr + 3 : adr + 7].copy()

    # ---- events ---------------------------------------------------------------------------

    def check(self, events: Sequence[Event]) -> list[str]:
        """Problems that would stop `events` applying in order, without touching the world."""
        fixed = {eid: e.fixed for eid, e in self.entities.items()}
        problems = []
        for i, ev in enumerate(events):
            problem = event_problem(ev, fixed)
            if problem:
                problems.append(f"events[{i}]: {problem}")
            else:
                apply_to_registry(ev, fixed)
        return problems

    @property
    def step_index(self) -> int:
        """The turn being played (set by :meth:`apply`; restored by :meth:`restore`)."""
        return self._step

    def apply(self, events: Sequence[Event], *, step: int | None = None) -> None:
        """Start turn `step` (when given) and apply `events` in order at the current instant: all of
        them, or none (EventError)."""
        problems = self.check(events)
        if problems:
            raise EventError("; ".join(problems))
        if step is not None:
            self._step = int(step)
        for ev in events:
            self._apply_one(ev)
        mujoco.mj_forward(self.model, self.data)

    def _apply_one(self, ev: Event) -> None:
        if isinstance(ev, SpawnEvent):
            self.entities[ev.entity.id] = ev.entity
            self._add_body(ev.entity)
            self._recompile()
            self._set_linear_velocity(ev.entity.id, ev.entity.velocity)
        elif isinstance(ev, RemoveEvent):
            self.spec.delete(self.spec.body(ev.entity))
            del self.entities[ev.entity]
            self._forces.pop(ev.entity, None)
            self._recompile()
        elif isinstance(ev, ApplyImpulseEvent):
            dv = np.asarray(ev.impulse) / self.mass(ev.entity)
            dof = self._dof[ev.entity]
            self.data.qvel[dof : dof + 3] += dv
        elif isinstance(ev, ApplyForceEvent):
            steps = max(1, round(ev.duration / self.model.opt.timestep))
            self._forces[ev.entity] = (np.asarray(ev.force, dtype=float), steps)
        elif isinstance(ev, SetVelocityEvent):
            self._set_linear_velocity(ev.entity, ev.velocity)
        elif isinstance(ev, SetPropertyEvent):
            self._set_property(ev)

    def _set_linear_velocity(self, eid: str, v: Sequence[float]) -> None:
        dof = self._dof[eid]
        if dof is not None:
            self.data.qvel[dof : dof + 3] = v

    def _set_property(self, ev: SetPropertyEvent) -> None:
        eid = ev.entity
        spec_entity = self.entities[eid]
        changes = ev.model_dump(exclude={"type", "entity"}, exclude_none=True)
        geom = self.spec.geom(eid)
        g = self._geom[eid]
        if "color" in changes:
            geom.rgba = hex_to_rgba(ev.color)
            self.model.geom_rgba[g] = geom.rgba
        if "friction" in changes:
            geom.friction = [ev.friction, 0.005, 0.0001]
            self.model.geom_friction[g] = geom.friction
        needs_recompile = "mass" in changes
        if needs_recompile:
            geom.mass = ev.mass
        if "fixed" in changes and ev.fixed != spec_entity.fixed:
            # The body's spec frame moves to where it is now; the entity spec follows, so that a
            # snapshot rebuilds exactly this model.
            pos, quat = self.pose(eid)
            body = self.spec.body(eid)
            body.pos, body.quat = list(pos), list(quat)
            if ev.fixed:
                self.spec.delete(self.spec.joint(eid))
                self._forces.pop(eid, None)
            else:
                body.add_freejoint(name=eid)
            changes["position"] = tuple(float(x) for x in pos)
            self._quat_override[eid] = quat
            needs_recompile = True
        self.entities[eid] = spec_entity.model_copy(update=changes)
        if needs_recompile:
            self._recompile()
            if ev.fixed is False:
                self._set_linear_velocity(eid, (0.0, 0.0, 0.0))

    # ---- time -----------------------------------------------------------------------------

    def run(self, duration: float, fps: int) -> Iterator[int]:
        """Integrate for round(duration * fps) frames, yielding each frame index after its time."""
        n_frames = max(1, round(duration * fps))
        dt = self.model.opt.timestep
        done = 0
        for k in range(n_frames):
            target = round((k + 1) / (fps * dt))
            self._integrate(target - done)
            done = target
            mujoco.mj_kinematics(self.model, self.data)
            yield k

    def _integrate(self, n: int) -> None:
        m, d = self.model, self.data
        while n > 0:
            chunk = min([n] + [left for _, left in self._forces.values()])
            d.xfrc_applied[:] = 0.0
            for eid, (force, _) in self._forces.items():
                d.xfrc_applied[self._body[eid], :3] = force
            mujoco.mj_step(m, d, nstep=chunk)
            self._forces = {e: (f, left - chunk) for e, (f, left) in self._forces.items() if left > chunk}
            n -= chunk
        d.xfrc_applied[:] = 0.0

    def advance(self, duration: float, fps: int) -> None:
        for _ in self.run(duration, fps):
            pass

    # ---- state ----------------------------------------------------------------------------

    def state(self) -> WorldState:
        """The exported world state (positions from the exact integration state)."""
        entities = {}
        for eid, e in self.entities.items():
            pos, quat = self.pose(eid)
            dof = self._dof[eid]
            if dof is None:
                vel = ang = np.zeros(3)
            else:
                vel = self.data.qvel[dof : dof + 3]
                rot = np.zeros(9)
                mujoco.mju_quat2Mat(rot, quat)
                ang = rot.reshape(3, 3) @ self.data.qvel[dof + 3 : dof + 6]
            entities[eid] = EntityState(
                shape=e.shape, size=e.size, position=_r(pos), orientation=_r(quat), velocity=_r(vel),
                angular_velocity=_r(ang), mass=round(self.mass(eid), 6), color=e.color, fixed=e.fixed,
                description=e.description,
            )
        return WorldState(step=self._step, time=round(float(self.data.time), 9), entities=entities)

    def integration_state(self) -> np.ndarray:
        """A copy of the integration state (time, positions, velocities, activations, ...) of the
        current model: what :meth:`set_integration_state` takes back to show a recorded frame."""
        out = np.empty(mujoco.mj_stateSize(self.model, _STATE_SIG))
        mujoco.mj_getState(self.model, self.data, out, _STATE_SIG)
        return out

    def set_integration_state(self, state: np.ndarray, *, forward: bool = False) -> None:
        """Put the world at an integration state taken by :meth:`integration_state` on the same model.

        Positions are updated for rendering (kinematics); ``forward=True`` also recomputes every
        derived quantity, as needed before integrating on from there."""
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (mujoco.mj_stateSize(self.model, _STATE_SIG),):
            raise SnapshotError(f"integration state has shape {state.shape}; this model needs "
                                f"({mujoco.mj_stateSize(self.model, _STATE_SIG)},)")
        mujoco.mj_setState(self.model, self.data, state, _STATE_SIG)
        (mujoco.mj_forward if forward else mujoco.mj_kinematics)(self.model, self.data)

    def snapshot(self) -> bytes:
        """The full physics state (model structure, integration state, active forces) as bytes."""
        header = {
            "version": SNAPSHOT_VERSION,
            "scene": self.scene.name,
            "step": self._step,
            "entities": [e.model_dump(mode="json") for e in self.entities.values()],
            "quats": {eid: list(map(float, q)) for eid, q in self._quat_override.items()},
            "forces": {eid: [list(map(float, f)), left] for eid, (f, left) in self._forces.items()},
        }
        blob = json.dumps(header, sort_keys=True).encode()
        state = np.empty(mujoco.mj_stateSize(self.model, _STATE_SIG))
        mujoco.mj_getState(self.model, self.data, state, _STATE_SIG)
        return SNAPSHOT_MAGIC + struct.pack("<I", len(blob)) + blob + state.tobytes()

    def restore(self, snapshot: bytes) -> None:
        """Return exactly to a state taken by :meth:`snapshot` on a world of the same scene."""
        if not snapshot.startswith(SNAPSHOT_MAGIC) or len(snapshot) < 8:
            raise SnapshotError("not a Callosum snapshot (bad magic bytes)")
        (n,) = struct.unpack("<I", snapshot[4:8])
        try:
            header = json.loads(snapshot[8 : 8 + n])
        except ValueError as exc:
            raise SnapshotError(f"snapshot header is damaged: {exc}") from None
        if header.get("version") != SNAPSHOT_VERSION or header.get("scene") != self.scene.name:
            raise SnapshotError(
                f"snapshot is of scene {header.get('scene')!r} (version {header.get('version')}), "
                f"this world is {self.scene.name!r} (version {SNAPSHOT_VERSION})"
            )
        entities = {d["id"]: EntitySpec.model_validate(d) for d in header["entities"]}
        self.entities = entities
        self._quat_override = {eid: np.asarray(q) for eid, q in header["quats"].items()}
        self._build()
        state = np.frombuffer(snapshot[8 + n :], dtype=np.float64)
        if state.size != mujoco.mj_stateSize(self.model, _STATE_SIG):
            raise SnapshotError("snapshot state size does not match its model; the file is truncated")
        mujoco.mj_setState(self.model, self.data, state, _STATE_SIG)
        self._forces = {eid: (np.asarray(f), left) for eid, (f, left) in header["forces"].items()}
        self._step = header["step"]
        self.model_version += 1
        mujoco.mj_forward(self.model, self.data)


def _r(v) -> tuple[float, ...]:
    return tuple(round(float(x), 6) + 0.0 for x in v)
