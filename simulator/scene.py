"""The scene file format: a static, validated description of a world and its steps.

A scene is the contract between authors, the planner and the simulator. Everything here is
immutable once loaded; the mutable world lives in :mod:`simulator.world`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from simulator.bounds import volume
from simulator.checks import GROUND_ID, Body, apply_to_bodies, event_problems, mass_problem, spec_body
from simulator.limits import LIMITS, LimitError, capped_norm, finite_vector, within_world
from simulator.materials import check_material, material_mass, materials
from simulator.parts import DENSITY_DEFAULT, PartSpec, centred, part_volumes
from simulator.primitives import (  # noqa: F401 (re-exported: the scene format's names)
    HEX_COLOR,
    SIZE_ARITY,
    SIZE_MEANING,
    Friction,
    Shape,
    Strict,
    Vec3,
    check_color,
    size_problem,
)
from simulator.templates.expand import TemplateError, expand_entity

SCENE_SCHEMA_VERSION = 1

ID_PATTERN = r"^[a-z0-9_-]+$"


def _finite(v: tuple[float, ...]) -> tuple[float, ...]:
    return finite_vector(v)


def _speed(v: tuple[float, ...]) -> tuple[float, ...]:
    return capped_norm(v, LIMITS.max_speed, "velocity", "m/s", "too_fast")


Mass = Annotated[float, Field(ge=LIMITS.min_mass, le=LIMITS.max_mass, allow_inf_nan=False)]
Bounciness = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class EntitySpec(Strict):
    """One rigid body: a single primitive shape, or several primitive `parts` joined rigidly."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    """Unique name, lowercase letters, digits, '_' and '-'."""
    shape: Shape | None = None
    """Primitive shape: box, sphere, cylinder or capsule. With `parts`: 'box' (the envelope), derived."""
    size: tuple[float, ...] | None = None
    """box: full extents [x, y, z]; sphere: [radius]; cylinder/capsule: [radius, length] (m). With
    `parts`: the full extents of the box around them, derived."""
    parts: tuple[PartSpec, ...] | None = Field(default=None, min_length=1, max_length=LIMITS.max_parts)
    """A composite body: primitives posed relative to the entity's centre, joined rigidly into one body."""
    template: str | None = Field(default=None, max_length=64)
    """A template from simulator/templates (table, bowl, shelf, ...): expanded into `parts`, `mass`,
    `color`, `friction` and `description` on load (each only where not given)."""
    params: dict[str, float] | None = None
    """The template's parameters (metres or counts), e.g. {width: 1.0, height: 0.7}; defaults otherwise."""
    position: Vec3
    """Centre of the body in world coordinates (m); z is up, the floor is z = 0. With `parts`: the
    centre of the box around them."""
    orientation: Vec3 = (0.0, 0.0, 0.0)
    """Euler angles about x, y, z in degrees (intrinsic xyz)."""
    velocity: Vec3 = (0.0, 0.0, 0.0)
    """Initial linear velocity (m/s); must stay zero for fixed bodies."""
    mass: Mass | None = None
    """Mass in kg; by default computed from the shape's (or the parts') volume at 1000 kg/m³."""
    fixed: bool = False
    """A fixed body is held in place (static) until released with set_property fixed: false."""
    color: str = "#808080"
    """Display colour as '#rrggbb'."""
    friction: Friction | None = None
    """Sliding friction coefficient; the material's, else MuJoCo's default (1.0), when omitted."""
    material: str | None = None
    """What it is made of (a name in simulator/materials.yaml: wood, rubber, ice, ...): sets its
    friction, bounciness, density (when no mass is given) and colour (when no colour is given)."""
    bounciness: Bounciness | None = None
    """0 (dead) .. 1 (a superball); the material's, else 0 (MuJoCo's default contact), when omitted."""
    description: str = Field(default="", max_length=LIMITS.max_text_chars)
    """What the thing looks like, in words; kept verbatim in captions."""

    _check_material = field_validator("material")(lambda v: check_material(v))
    _check_position = field_validator("position")(lambda v: within_world(v))
    _check_orientation = field_validator("orientation")(lambda v: _finite(v))
    _check_velocity = field_validator("velocity")(lambda v: _speed(v))
    _check_color = field_validator("color")(lambda v: check_color(v))

    @field_validator("id")
    @classmethod
    def _not_ground(cls, v: str) -> str:
        if v == GROUND_ID:
            raise ValueError(f"id {v!r} is reserved for the floor; choose another id")
        return v

    @model_validator(mode="before")
    @classmethod
    def _expand_template(cls, data):
        if isinstance(data, dict) and data.get("template") is not None and data.get("parts") is None:
            try:
                data = expand_entity(data, set(cls.model_fields))
            except TemplateError as exc:
                raise ValueError(str(exc)) from None
        if isinstance(data, dict) and "color" not in data and data.get("material") in materials():
            data = {**data, "color": materials()[data["material"]].colour}  # the material's typical colour
        return data

    @model_validator(mode="after")
    def _check_size(self) -> EntitySpec:
        if self.parts is not None:
            self._derive_envelope()
        elif self.shape is None or self.size is None:
            raise ValueError("an entity needs a shape and a size (e.g. shape: box, size: [0.1, 0.1, 0.1]), "
                             "or parts")
        problem = size_problem(self.shape, self.size)
        if problem:
            raise LimitError(problem, "bad_size")
        if self.fixed and any(self.velocity):
            raise ValueError("a fixed entity cannot have a velocity; drop velocity or set fixed: false")
        if self.material and self.mass is None:
            problem = mass_problem(material_mass(self.material, self.volume()), self.material)
            if problem:
                raise ValueError(problem)
        return self

    def _derive_envelope(self) -> None:
        parts, extent = centred(self.parts)
        if self.shape not in (None, "box"):
            raise ValueError(f"an entity with parts has the shape of the box around them; drop shape "
                             f"{self.shape!r} (or write shape: box)")
        if self.size is not None and (len(self.size) != 3 or any(abs(a - b) > 1e-6 for a, b in zip(self.size, extent))):
            raise ValueError(f"size is derived from the parts ({list(extent)}); drop size {list(self.size)}")
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "shape", "box")
        object.__setattr__(self, "size", extent)

    def volume(self) -> float:
        """Its volume (m³): the parts' (overlaps counted twice, as MuJoCo does) or the shape's."""
        return sum(part_volumes(self.parts)) if self.parts else volume(self.shape, self.size)

    def nominal_mass(self) -> float:
        """The mass (kg) the simulator gives this entity: `mass`, else its volume at its material's
        density, else at 1000 kg/m³."""
        if self.mass is not None:
            return self.mass
        if self.material:
            return material_mass(self.material, self.volume())
        return DENSITY_DEFAULT * self.volume()


class SpawnEvent(Strict):
    """Create a new entity at the start of the step."""

    type: Literal["spawn"]
    """Event kind."""
    entity: EntitySpec
    """The full description of the new entity."""


class RemoveEvent(Strict):
    """Delete an entity from the world."""

    type: Literal["remove"]
    """Event kind."""
    entity: str
    """Id of the entity to remove."""


class ApplyImpulseEvent(Strict):
    """An instantaneous kick: velocity changes by impulse / mass."""

    type: Literal["apply_impulse"]
    """Event kind."""
    entity: str
    """Id of the free (not fixed) entity to kick."""
    impulse: Vec3
    """Impulse in N·s, world frame."""

    _finite = field_validator("impulse")(lambda v: capped_norm(v, LIMITS.max_impulse, "impulse", "N*s", "too_strong"))


class ApplyForceEvent(Strict):
    """A constant force at the centre of mass for a while."""

    type: Literal["apply_force"]
    """Event kind."""
    entity: str
    """Id of the free entity to push."""
    force: Vec3
    """Force in N, world frame."""
    duration: float = Field(gt=0, le=LIMITS.max_turn_seconds, allow_inf_nan=False)
    """How long the force acts, in seconds (it may outlast the step)."""

    _finite = field_validator("force")(lambda v: capped_norm(v, LIMITS.max_force, "force", "N", "too_strong"))


class SetVelocityEvent(Strict):
    """Set an entity's linear velocity outright."""

    type: Literal["set_velocity"]
    """Event kind."""
    entity: str
    """Id of the free entity."""
    velocity: Vec3
    """New linear velocity in m/s, world frame."""

    _finite = field_validator("velocity")(lambda v: _speed(v))


class SetPropertyEvent(Strict):
    """Change an entity's properties; omitted ones stay as they are."""

    type: Literal["set_property"]
    """Event kind."""
    entity: str
    """Id of the entity to change."""
    color: str | None = None
    """New colour as '#rrggbb'."""
    mass: Mass | None = None
    """New mass in kg."""
    friction: Friction | None = None
    """New sliding friction coefficient."""
    fixed: bool | None = None
    """true holds the body where it is now; false releases it to fall."""
    material: str | None = None
    """New material: its friction, bounciness and (unless `mass` is given) its density apply; the
    colour stays unless `color` is given. On the ground: the floor's friction and bounciness."""
    bounciness: Bounciness | None = None
    """New bounciness, 0 (dead) .. 1 (a superball)."""
    description: str | None = Field(default=None, max_length=LIMITS.max_text_chars)
    """New description in words."""

    _check_color = field_validator("color")(lambda v: v if v is None else check_color(v))
    _check_material = field_validator("material")(lambda v: check_material(v))


class PlaceEvent(Strict):
    """Carry a free body to a new place: lifted, carried and lowered over `duration` (the video shows
    the motion), ending upright (heading kept) and at rest with its centre at `position`."""

    type: Literal["place"]
    """Event kind."""
    entity: str
    """Id of the free entity to move."""
    position: Vec3
    """Where its centre ends (m): e.g. on a support, z = the support's top + half the body's height."""
    duration: float = Field(default=1.0, gt=0, le=LIMITS.max_place_seconds, allow_inf_nan=False)
    """How long the carry takes (s); the body is released at the end (it may outlast the step)."""
    lift: float = Field(default=0.1, ge=0, le=LIMITS.max_place_lift, allow_inf_nan=False)
    """How high (m) it is lifted above the higher of its start and end."""

    _check_position = field_validator("position")(lambda v: within_world(v))


Event = Annotated[
    Union[SpawnEvent, RemoveEvent, ApplyImpulseEvent, ApplyForceEvent, SetVelocityEvent, SetPropertyEvent, PlaceEvent],
    Field(discriminator="type"),
]
EVENT_TYPES = ("spawn", "remove", "apply_impulse", "apply_force", "set_velocity", "set_property", "place")


class PhysicsSpec(Strict):
    """Integrator settings."""

    timestep: float = Field(default=0.002, ge=LIMITS.min_timestep, le=LIMITS.max_timestep)
    """Physics step in seconds."""
    gravity: Vec3 = (0.0, 0.0, -9.81)
    """Gravity vector in m/s²."""

    _finite = field_validator("gravity")(lambda v: capped_norm(v, LIMITS.max_gravity, "gravity", "m/s^2"))


class CameraSpec(Strict):
    """The scene camera."""

    position: Vec3 = (2.0, -2.0, 1.5)
    """Eye position in metres."""
    look_at: Vec3 = (0.0, 0.0, 0.5)
    """Point the camera looks at."""
    fov: float = Field(default=45.0, gt=1, lt=170)
    """Vertical field of view in degrees."""

    @model_validator(mode="after")
    def _distinct(self) -> CameraSpec:
        within_world(self.position), within_world(self.look_at)
        if self.position == self.look_at:
            raise ValueError("camera position and look_at must differ")
        return self


class RenderSpec(Strict):
    """Output video settings."""

    width: int = Field(default=256, ge=LIMITS.min_render_side, le=LIMITS.max_render_side)
    """Frame width in pixels."""
    height: int = Field(default=256, ge=LIMITS.min_render_side, le=LIMITS.max_render_side)
    """Frame height in pixels."""
    fps: int = Field(default=24, ge=1, le=LIMITS.max_fps)
    """Frames per second of simulated time."""

    @model_validator(mode="after")
    def _area(self) -> RenderSpec:
        if self.width * self.height > LIMITS.max_render_pixels:
            raise ValueError(f"render size {self.width}x{self.height} has {self.width * self.height} pixels; the "
                             f"limit is {LIMITS.max_render_pixels} (e.g. 1920x1080)")
        return self


class GroundSpec(Strict):
    """The floor plane at z = 0, present in every world."""

    color: str = "#b8b2a7"
    """Floor colour as '#rrggbb'."""
    friction: Friction | None = None
    """Floor sliding friction; the material's, else 1.0, when omitted."""
    material: str | None = None
    """What the floor is made of (a name in simulator/materials.yaml): its friction and bounciness."""
    bounciness: Bounciness | None = None
    """0 (dead, the default) .. 1 (a trampoline-like floor)."""

    _check_color = field_validator("color")(lambda v: check_color(v))
    _check_material = field_validator("material")(lambda v: check_material(v))


class StepSpec(Strict):
    """One turn: an action, optional pinned events, and how long to simulate afterwards."""

    action: str | None = Field(default=None, max_length=LIMITS.max_action_chars)
    """Free-text action for the planner (and the narration when no planner runs)."""
    duration: float | None = Field(default=None, ge=LIMITS.min_turn_seconds, le=LIMITS.max_turn_seconds)
    """Seconds simulated and rendered after the events. Not given (None): until every free body has
    come to rest, at most ``LIMITS.max_rest_seconds``, so a clip does not end mid-fall."""
    events: list[Event] | None = Field(default=None, max_length=LIMITS.max_events_per_step)
    """Pinned events, played as written without the planner."""

    @property
    def longest(self) -> float:
        """The most seconds this step may simulate: its duration, else the run-until-rest cap."""
        return self.duration if self.duration is not None else LIMITS.max_rest_seconds


class Scene(Strict):
    """A whole scenario: the world at t = 0 and the steps to play."""

    schema_version: int = SCENE_SCHEMA_VERSION
    """Scene format version."""
    name: str = Field(pattern=ID_PATTERN, max_length=64)
    """Slug naming the scene."""
    description: str = Field(default="", max_length=4000)
    """What the scene is about."""
    seed: int = Field(default=0, ge=0, lt=2**32)
    """The one seed for physics, the planner and the video model."""
    physics: PhysicsSpec = PhysicsSpec()
    """Integrator settings."""
    camera: CameraSpec = CameraSpec()
    """The scene camera."""
    render: RenderSpec = RenderSpec()
    """Frame size and rate."""
    ground: GroundSpec = GroundSpec()
    """Floor appearance and friction."""
    lighting: Literal["day", "night", "indoors", "sunset"] = "day"
    """The light: day (the default sky and sun), night (dark blue sky, dim moonlight), indoors (grey
    walls of light, soft), sunset (warm low sun)."""
    entities: list[EntitySpec] = Field(default=[], max_length=LIMITS.max_entities)
    """Bodies present at t = 0."""
    steps: list[StepSpec] = Field(default=[], max_length=LIMITS.max_steps)
    """The turns to play, in order."""

    @model_validator(mode="after")
    def _check_references(self) -> Scene:
        if self.schema_version != SCENE_SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not supported; use {SCENE_SCHEMA_VERSION}")
        bodies: dict[str, Body] = {}
        for e in self.entities:
            if e.id in bodies:
                raise ValueError(f"duplicate entity id {e.id!r}; ids must be unique")
            bodies[e.id] = spec_body(e)  # where things are at the first step; after it they move
        seconds = sum(s.longest for s in self.steps)
        if seconds > LIMITS.max_scene_seconds:
            raise ValueError(f"the steps simulate {seconds:g} s in all; the limit is {LIMITS.max_scene_seconds:g} s")
        frames = sum(max(1, round(s.longest * self.render.fps)) for s in self.steps)
        if frames > LIMITS.max_total_frames:
            raise ValueError(f"the steps render {frames} frames in all at {self.render.fps} fps; the limit is "
                             f"{LIMITS.max_total_frames}")
        for i, step in enumerate(self.steps):
            for j, ev in enumerate(step.events or []):
                problems = event_problems(ev, bodies, ("steps", i, "events", j))
                if problems:
                    raise ValueError(problems[0].message)
                apply_to_bodies(ev, bodies, boxes=i == 0)
            for body in bodies.values():  # free bodies move while a step plays: where they are is play's check
                if not body.fixed:
                    body.box = None
        return self
