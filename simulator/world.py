"""The mutable world: a MuJoCo model built from a scene, advanced by events and time."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from collections.abc import Iterator, Sequence

import numpy as np

from simulator._mujoco import mujoco
from simulator.scene import (
    GROUND_ID,
    ApplyForceEvent,
    ApplyImpulseEvent,
    EntitySpec,
    Event,
    GroundSpec,
    PlaceEvent,
    RemoveEvent,
    Scene,
    SetPropertyEvent,
    SetVelocityEvent,
    SpawnEvent,
)
from simulator.build import (
    add_geoms, base_spec, entity_surfaces, euler_to_quat, geom_names, ground_surface, ground_texture, hex_to_rgba,
    set_surface, sync_floor_pairs,
)
from simulator.checks import Body, Problem, check_events, place_problems, state_bodies
from simulator.parts import part_masses, part_states
from simulator.place import Placement
from simulator.divergence import DivergenceError, WorldError, check_divergence, clear_warnings, one_line
from simulator.limits import LIMITS
from simulator.state import EntityState, WorldState

SNAPSHOT_MAGIC = b"CLSM"
SNAPSHOT_VERSION = 1
_STATE_SIG = mujoco.mjtState.mjSTATE_INTEGRATION
__all__ = ["DivergenceError", "EventError", "SnapshotError", "World", "WorldError"]


class EventError(ValueError):
    """An event that cannot apply to the current world; nothing was changed."""


class SnapshotError(ValueError):
    """A snapshot that does not belong to this scene or is damaged."""


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
        self.ground: GroundSpec = scene.ground
        self._forces: dict[str, tuple[np.ndarray, int]] = {}
        self._placements: dict[str, Placement] = {}
        self._quat_override: dict[str, np.ndarray] = {}
        self._restored: bytes | None = None
        self._build()
        for e in self.entities.values():
            self._set_linear_velocity(e.id, e.velocity)
        mujoco.mj_forward(self.model, self.data)

    # ---- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.spec = base_spec(self.scene, self.ground)
        for e in self.entities.values():
            self._add_body(e, quat=self._quat_override.get(e.id))
        sync_floor_pairs(self.spec, list(self.entities.values()), self.ground, self.scene.physics.timestep)
        try:
            self.model = self.spec.compile()
        except ValueError as exc:
            raise WorldError(f"scene {self.scene.name!r} does not compile in MuJoCo: {one_line(exc)}") from None
        self.data = mujoco.MjData(self.model)
        self._index()

    def _add_body(self, e: EntitySpec, pos=None, quat=None) -> None:
        body = self.spec.worldbody.add_body(
            name=e.id,
            pos=list(e.position) if pos is None else list(pos),
            quat=list(euler_to_quat(e.orientation) if quat is None else quat),
        )
        if not e.fixed:
            body.add_freejoint(name=e.id)
        add_geoms(body, e, self.scene.physics.timestep)

    def _recompile(self) -> None:
        sync_floor_pairs(self.spec, list(self.entities.values()), self.ground, self.scene.physics.timestep)
        try:
            self.model, self.data = self.spec.recompile(self.model, self.data)
        except ValueError as exc:
            raise WorldError(f"the world does not compile in MuJoCo after this step's events: {one_line(exc)}") from None
        self.model_version += 1
        self._restored = None
        self._index()

    def _index(self) -> None:
        m = self.model
        self._body = {eid: m.body(eid).id for eid in self.entities}
        self._geoms = {eid: [m.geom(n).id for n in geom_names(e)] for eid, e in self.entities.items()}
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
        for eid, geoms in self._geoms.items():
            for g in geoms:
                names[g] = eid
        return names

    def free_joints(self) -> dict[str, tuple[int, int]]:
        """Entity id -> (qpos address, dof address) of every free (not fixed) body."""
        return {eid: (self._qpos[eid], dof) for eid, dof in self._dof.items() if dof is not None}

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

    def check(self, events: Sequence[Event]) -> list[Problem]:
        """Problems that would stop `events` applying in order now (the one event checker,
        :func:`simulator.checks.check_events`), without touching the world."""
        if any(ev.type in ("spawn", "place") for ev in events):  # where a body lands matters: the bounds
            bodies = state_bodies(self.state().entities)
        else:
            bodies = {eid: Body(e.fixed, self.mass(eid), volume=e.volume())
                      for eid, e in self.entities.items()}
        return check_events(events, bodies)

    @property
    def time(self) -> float:
        """Simulated time now (s), exact (not rounded)."""
        return float(self.data.time)

    def placement_problem(self, ev: PlaceEvent) -> str | None:
        """Why `ev` would end its body inside any other body as the world is now (free ones too), or
        None: what a planner checks before proposing a placement (the event checker counts only fixed
        scenery, since free bodies move while a step plays)."""
        problems = self.check([ev]) or place_problems(ev, state_bodies(self.state().entities), scenery_only=False)
        return "; ".join(p.message for p in problems) or None

    @property
    def step_index(self) -> int:
        """The turn being played (set by :meth:`apply`; restored by :meth:`restore`)."""
        return self._step

    def apply(self, events: Sequence[Event], *, step: int | None = None) -> None:
        """Start turn `step` (when given) and apply `events` in order at the current instant: all of
        them, or none (EventError)."""
        problems = self.check(events)
        if problems:
            raise EventError("; ".join(p.message for p in problems))
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
            self._placements.pop(ev.entity, None)
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
        elif isinstance(ev, PlaceEvent):
            pos, quat = self.pose(ev.entity)
            self._forces.pop(ev.entity, None)
            self._placements[ev.entity] = Placement.plan(pos, quat, ev.position, ev.lift, ev.duration,
                                                         self.model.opt.timestep)

    def _set_linear_velocity(self, eid: str, v: Sequence[float]) -> None:
        dof = self._dof[eid]
        if dof is not None:
            self.data.qvel[dof : dof + 3] = v

    def _set_property(self, ev: SetPropertyEvent) -> None:
        eid = ev.entity
        self._restored = None  # the model (or the entity specs) no longer match the last restore
        if eid == GROUND_ID:
            self._set_ground(ev)
            return
        spec_entity = self.entities[eid]
        changes = ev.model_dump(exclude={"type", "entity"}, exclude_none=True)
        if "material" in changes:
            # the new material governs the surface (and the mass, unless one is given)
            changes.setdefault("friction", None)
            changes.setdefault("bounciness", None)
            changes.setdefault("mass", spec_entity.model_copy(update={"material": ev.material, "mass": None}).nominal_mass())
        if "color" in changes and spec_entity.parts:  # the whole thing takes the colour
            changes["parts"] = tuple(p.model_copy(update={"color": None}) for p in spec_entity.parts)
        self._set_geom_properties(spec_entity.model_copy(update=changes), changes)
        needs_recompile = bool({"mass", "friction", "material", "bounciness"} & set(changes))
        if "fixed" in changes and ev.fixed != spec_entity.fixed:
            self._hold_or_release(eid, ev.fixed, changes)
            needs_recompile = True
        self.entities[eid] = spec_entity.model_copy(update=changes)
        if needs_recompile:
            self._recompile()
            if ev.fixed is False:
                self._set_linear_velocity(eid, (0.0, 0.0, 0.0))

    def _set_geom_properties(self, e: EntitySpec, changes: dict) -> None:
        """Colour, surface and mass on every geom of `e` (its new spec; mass shared by volume among parts)."""
        mass = changes.get("mass")
        masses = part_masses(e.parts, mass) if e.parts and mass is not None else [mass]
        surfaces = dict(entity_surfaces(e, self.scene.physics.timestep))
        for k, (name, g) in enumerate(zip(geom_names(e), self._geoms[e.id])):
            geom = self.spec.geom(name)
            if "color" in changes:
                geom.rgba = hex_to_rgba(changes["color"])
                self.model.geom_rgba[g] = geom.rgba
            if mass is not None:
                geom.mass = masses[k]
            set_surface(geom, surfaces[name])

    def _hold_or_release(self, eid: str, fixed: bool, changes: dict) -> None:
        """Fix the body where it is now, or give it a free joint there. The body's spec frame moves to
        where it is now; the entity spec follows, so that a snapshot rebuilds exactly this model."""
        pos, quat = self.pose(eid)
        body = self.spec.body(eid)
        body.pos, body.quat = list(pos), list(quat)
        if fixed:
            self.spec.delete(self.spec.joint(eid))
            self._forces.pop(eid, None)
            self._placements.pop(eid, None)
        else:
            body.add_freejoint(name=eid)
        changes["position"] = tuple(float(x) for x in pos)
        self._quat_override[eid] = quat

    def _set_ground(self, ev: SetPropertyEvent) -> None:
        """Change the floor: its material, friction, bounciness and colour (a new material resets
        the friction and bounciness to the material's unless the event gives them)."""
        changes = ev.model_dump(include={"color", "friction", "material", "bounciness"}, exclude_none=True)
        if "material" in changes:
            changes.setdefault("friction", None)
            changes.setdefault("bounciness", None)
        self.ground = self.ground.model_copy(update=changes)
        set_surface(self.spec.geom(GROUND_ID), ground_surface(self.ground, self.scene.physics.timestep))
        if "color" in changes:
            self.spec.delete(self.spec.texture("ground"))
            ground_texture(self.spec, self.ground.color)
        self._recompile()

    # ---- time -----------------------------------------------------------------------------

    def run(self, duration: float, fps: int) -> Iterator[int]:
        """Integrate for round(duration * fps) frames, yielding each frame index after its time."""
        n_frames = max(1, round(duration * fps))
        dt = self.model.opt.timestep
        done = 0
        clear_warnings(self.data)
        for k in range(n_frames):
            target = round((k + 1) / (fps * dt))
            self._integrate(target - done)
            done = target
            mujoco.mj_kinematics(self.model, self.data)
            check_divergence(self)
            yield k

    def run_until_rest(self, max_seconds: float, fps: int, watch: Sequence[str] | None = None) -> Iterator[int]:
        """Like :meth:`run`, but stop once the `watch` bodies (default: every free body) have been at
        rest for ``LIMITS.rest_hold_seconds``, and at least ``LIMITS.min_rest_seconds`` have passed, or
        after `max_seconds` (at most ``LIMITS.max_rest_seconds``). Yields each frame index after its time."""
        limit = min(max_seconds, LIMITS.max_rest_seconds)
        need = max(1, math.ceil(LIMITS.rest_hold_seconds * fps))
        least = math.ceil(min(LIMITS.min_rest_seconds, limit) * fps)
        still = 0
        for k in self.run(limit, fps):
            yield k
            still = still + 1 if self.at_rest(watch) else 0
            if still >= need and k + 1 >= least:
                return

    def run_step(self, duration: float | None, fps: int) -> Iterator[int]:
        """A step's time: `duration` seconds (:meth:`run`), or, when it was not given (None), until
        every free body has come to rest (:meth:`run_until_rest`, at most ``LIMITS.max_rest_seconds``)."""
        if duration is None:
            return self.run_until_rest(LIMITS.max_rest_seconds, fps)
        return self.run(duration, fps)

    def at_rest(self, watch: Sequence[str] | None = None) -> bool:
        """Whether the `watch` bodies (default: every free body) move and spin slower than the rest
        thresholds of the limits, with no force or placement still acting on them."""
        ids = self.free_joints() if watch is None else {e: None for e in watch if self._dof.get(e) is not None}
        for eid in ids:
            if eid in self._forces or eid in self._placements:
                return False
            dof = self._dof[eid]
            v = self.data.qvel[dof : dof + 6]
            if np.linalg.norm(v[:3]) >= LIMITS.rest_speed or np.linalg.norm(v[3:]) >= LIMITS.rest_spin:
                return False
        return True

    def _integrate(self, n: int) -> None:
        m, d = self.model, self.data
        while n > 0:
            # a placement drives its body every step; forces change only when one runs out
            chunk = 1 if self._placements else min([n] + [left for _, left in self._forces.values()])
            d.xfrc_applied[:] = 0.0
            for eid, (force, _) in self._forces.items():
                d.xfrc_applied[self._body[eid], :3] = force
            self._drive_placements()
            mujoco.mj_step(m, d, nstep=chunk)
            self._forces = {e: (f, left - chunk) for e, (f, left) in self._forces.items() if left > chunk}
            self._end_placements()
            n -= chunk
        d.xfrc_applied[:] = 0.0

    def _drive_placements(self) -> None:
        """Put each carried body where its path is at this step, moving as the path moves."""
        dt = self.model.opt.timestep
        for eid, p in self._placements.items():
            pos, quat, vel, spin = p.at(p.done, dt)
            self._set_free(eid, pos, quat, vel, spin)
            self._placements[eid] = dataclasses.replace(p, done=p.done + 1)

    def _end_placements(self) -> None:
        """Set down each body whose carry is over: exactly at its target, upright, at rest."""
        for eid, p in list(self._placements.items()):
            if p.done >= p.steps:
                self._set_free(eid, p.end, p.end_quat, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
                del self._placements[eid]

    def _set_free(self, eid: str, pos, quat, vel, spin) -> None:
        adr, dof = self._qpos[eid], self._dof[eid]
        self.data.qpos[adr : adr + 3] = pos
        self.data.qpos[adr + 3 : adr + 7] = quat
        self.data.qvel[dof : dof + 3] = vel
        self.data.qvel[dof + 3 : dof + 6] = spin

    def advance(self, duration: float | None, fps: int) -> None:
        """Play a step's time without looking at the frames (:meth:`run_step`)."""
        for _ in self.run_step(duration, fps):
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
                description=e.description, material=e.material,
                parts=part_states(e.parts, e.color) if e.parts else None,
            )
        return WorldState(step=self._step, time=round(self.time, 9), entities=entities)

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
            "ground": self.ground.model_dump(mode="json"),
            "placements": {eid: p.to_json() for eid, p in self._placements.items()},
        }
        blob = json.dumps(header, sort_keys=True).encode()
        state = np.empty(mujoco.mj_stateSize(self.model, _STATE_SIG))
        mujoco.mj_getState(self.model, self.data, state, _STATE_SIG)
        return SNAPSHOT_MAGIC + struct.pack("<I", len(blob)) + blob + state.tobytes()

    def restore(self, snapshot: bytes) -> None:
        """Return exactly to a state taken by :meth:`snapshot` on a world of the same scene.

        When the model has not changed since the last restore of a snapshot with the same bodies
        (the same header), only the integration state is set: imagining many candidates from one
        snapshot costs no rebuild."""
        header, blob, state = _split_snapshot(snapshot, self.scene.name)
        if blob != self._restored:
            self._restored = None
            self.entities = {d["id"]: EntitySpec.model_validate(d) for d in header["entities"]}
            self._quat_override = {eid: np.asarray(q) for eid, q in header["quats"].items()}
            self.ground = GroundSpec.model_validate(header["ground"]) if "ground" in header else self.scene.ground
            self._build()
            self.model_version += 1
        if state.size != mujoco.mj_stateSize(self.model, _STATE_SIG):
            raise SnapshotError("snapshot state size does not match its model; the file is truncated")
        mujoco.mj_setState(self.model, self.data, state, _STATE_SIG)
        self._forces = {eid: (np.asarray(f), left) for eid, (f, left) in header["forces"].items()}
        self._placements = {eid: Placement.from_json(p) for eid, p in header.get("placements", {}).items()}
        self._step = header["step"]
        self._restored = blob
        mujoco.mj_forward(self.model, self.data)

def _split_snapshot(snapshot: bytes, scene: str) -> tuple[dict, bytes, np.ndarray]:
    """The header (parsed), the header's bytes and the integration state of a snapshot of `scene`."""
    if not snapshot.startswith(SNAPSHOT_MAGIC) or len(snapshot) < 8:
        raise SnapshotError("not a Callosum snapshot (bad magic bytes)")
    (n,) = struct.unpack("<I", snapshot[4:8])
    blob = bytes(snapshot[8 : 8 + n])
    try:
        header = json.loads(blob)
    except ValueError as exc:
        raise SnapshotError(f"snapshot header is damaged: {exc}") from None
    if header.get("version") != SNAPSHOT_VERSION or header.get("scene") != scene:
        raise SnapshotError(
            f"snapshot is of scene {header.get('scene')!r} (version {header.get('version')}), "
            f"this world is {scene!r} (version {SNAPSHOT_VERSION})"
        )
    if len(snapshot) - 8 - n < 0 or (len(snapshot) - 8 - n) % 8:
        raise SnapshotError("snapshot state size does not match its model; the file is truncated")
    return header, blob, np.frombuffer(snapshot[8 + n :], dtype=np.float64)


def _r(v) -> tuple[float, ...]:
    return tuple(round(float(x), 6) + 0.0 for x in v)
