"""The one set of limits every entry point enforces.

Scene files, ``callosum check``, pinned events in files, the REPL's ``:do``, the server protocol, the
planner's decoding schema and its validator all read their bounds from :data:`LIMITS`. A limit that
differs between two entry points is a bug: import it from here instead of writing the number again.

Also here: the strict JSON parser every edge uses (depth limit, no NaN/Infinity, no huge numbers),
and the per-mass checks on events (the speed an impulse or a force gives a body).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from simulator.bounds import volume


class LimitError(ValueError):
    """A value beyond one of the :class:`Limits`; the message names the value and the limit, and
    `code` says which kind of bound it broke ('not_finite', 'too_fast', 'too_strong', 'too_far', ...)."""

    def __init__(self, message: str, code: str = "limit"):
        super().__init__(message)
        self.code = code


class Limits(BaseModel):
    """Every bound on what a world, a step, an event or a message may hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # ---- events and turns ---------------------------------------------------------------------
    max_events_per_step: int = 24
    """Events one step (a scene step, a turn, a plan) may apply: a group action ("push all the
    blocks", "put the four lemons in the bowl") is one event per body, so ten bodies with a
    property change each fit, while a runaway plan is still cut short."""
    min_turn_seconds: float = 0.01
    """Shortest simulated time of one step (s)."""
    max_turn_seconds: float = 60.0
    """Longest simulated time of one step (s)."""
    max_action_chars: int = 500
    """Longest action text of a step or a turn."""
    max_text_chars: int = 300
    """Longest entity description."""
    max_speed: float = 20.0
    """Largest speed (m/s) an entity may start with or an event may give it."""
    max_accel: float = 100.0
    """Largest acceleration (m/s², about 10 g) a force may give a body."""
    max_place_seconds: float = 10.0
    """Longest a place event may take to carry a body (s)."""
    max_place_lift: float = 2.0
    """Highest a place event may lift a body above its start and end (m)."""
    place_tolerance: float = 0.005
    """How far (m) a placed body may end inside another body's bounds or below the floor (contact slop)."""
    max_rest_seconds: float = 10.0
    """Longest a turn whose duration was not given runs while waiting for its bodies to come to rest (s)."""
    min_rest_seconds: float = 0.5
    """Shortest a turn whose duration was not given runs, so a change that moves nothing (a new
    colour) still shows for half a second (s)."""
    rest_hold_seconds: float = 0.25
    """How long (s) the bodies must stay below the rest speed and spin to count as at rest."""
    rest_speed: float = 0.03
    """A body moving slower than this (m/s) counts as at rest (goals, running until rest): MuJoCo's
    soft contacts let a rolling ball's last few cm/s fade slowly, and 3 cm/s is barely visible."""
    rest_spin: float = 0.5
    """A body spinning slower than this (rad/s) counts as at rest (a 4 cm ball rolling at 2 cm/s)."""

    # ---- bodies -------------------------------------------------------------------------------
    min_mass: float = 1e-4
    """Lightest mass (kg) a scene or an event may set."""
    max_mass: float = 10_000.0
    """Heaviest mass (kg) a scene or an event may set."""
    min_size: float = 0.005
    """Smallest size value (m): a box extent, a radius, a length."""
    max_size: float = 10.0
    """Largest size value (m)."""
    max_friction: float = 10.0
    """Largest sliding friction coefficient."""
    world_extent: float = 100.0
    """Every position (entities, spawns, the camera) lies within ±this on each axis (m); a body that
    leaves this box while simulating is a divergence."""
    max_entities: int = 100
    """Entities in a world at once, spawned ones included."""
    max_parts: int = 24
    """Primitive parts of one composite entity (a chair is 6-10, a shelf about 8): enough for any
    everyday thing, few enough that a world of `max_entities` stays fast to collide and render."""

    # ---- physics ------------------------------------------------------------------------------
    min_timestep: float = 5e-4
    """Smallest physics step (s)."""
    max_timestep: float = 0.05
    """Largest physics step (s)."""
    max_gravity: float = 100.0
    """Largest gravity magnitude (m/s²)."""
    max_state_speed: float = 1_000.0
    """A body faster than this (m/s) while simulating has diverged."""
    max_state_spin: float = 100_000.0
    """A body spinning faster than this (rad/s) while simulating has diverged."""

    # ---- scenes and rendering -----------------------------------------------------------------
    max_steps: int = 200
    """Steps in a scene file."""
    max_scene_seconds: float = 600.0
    """Simulated time of all of a scene's steps together (s)."""
    max_total_frames: int = 14_400
    """Frames of all of a scene's steps together (10 minutes at 24 fps)."""
    min_render_side: int = 16
    """Smallest frame width or height (px)."""
    max_render_side: int = 1920
    """Largest frame width or height (px)."""
    max_render_pixels: int = 1920 * 1080
    """Largest frame area (px)."""
    max_fps: int = 60
    """Highest frame rate."""

    # ---- files and messages -------------------------------------------------------------------
    max_scene_bytes: int = 1024 * 1024
    """Largest scene file."""
    max_yaml_depth: int = 32
    """Deepest nesting of a scene file's mappings and lists."""
    max_yaml_aliases: int = 64
    """YAML aliases (``*name``) a scene file may use."""
    max_yaml_nodes: int = 200_000
    """Values in a scene file once its aliases are expanded."""
    max_int_digits: int = 24
    """Digits of an integer in a scene file or a JSON message."""
    max_json_depth: int = 16
    """Deepest nesting of a JSON message (REST bodies, WebSocket messages, ``:do``)."""
    max_request_bytes: int = 64 * 1024
    """Largest REST request body (checked before authentication)."""
    max_message_bytes: int = 16 * 1024
    """Largest WebSocket text message."""

    @property
    def max_impulse(self) -> float:
        """Largest impulse magnitude (N·s) on any body: the speed limit at the heaviest mass."""
        return self.max_speed * self.max_mass

    @property
    def max_force(self) -> float:
        """Largest force magnitude (N) on any body: the acceleration limit at the heaviest mass."""
        return self.max_accel * self.max_mass


LIMITS = Limits()
"""The limits in force."""


# ---- vectors ------------------------------------------------------------------------------------


def norm(v: Sequence[float]) -> float:
    return math.sqrt(sum(float(x) * float(x) for x in v))


def finite_vector(v: Sequence[float]) -> tuple[float, ...]:
    if not all(math.isfinite(x) for x in v):
        raise LimitError(f"every component must be a finite number, got {list(v)}", "not_finite")
    return tuple(v)


def within_world(v: Sequence[float]) -> tuple[float, ...]:
    """A finite position inside the world box."""
    finite_vector(v)
    ext = LIMITS.world_extent
    if any(abs(x) > ext for x in v):
        raise LimitError(f"position {list(v)} is outside the world: each coordinate lies within ±{ext:g} m", "too_far")
    return tuple(v)


def capped_norm(v: Sequence[float], cap: float, what: str, unit: str, code: str = "too_large") -> tuple[float, ...]:
    """A finite vector whose magnitude is at most `cap` (else a :class:`LimitError` with `code`)."""
    finite_vector(v)
    n = norm(v)
    if n > cap:
        raise LimitError(f"{what} {list(v)} has magnitude {n:.4g} {unit}; the limit is {cap:g} {unit}", code)
    return tuple(v)


def default_mass(shape: str, size: Sequence[float], density: float = 1000.0) -> float:
    """The mass MuJoCo gives a primitive of `size` (scene convention) at `density` (kg/m³)."""
    return density * volume(shape, size)


# ---- JSON ---------------------------------------------------------------------------------------

_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str, stop: int) -> int:
    """The nesting depth of JSON `text` (strings skipped), counting no further than `stop`."""
    depth = deepest = 0
    for m in _STRUCTURE.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop:
                    return deepest
        elif c in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise LimitError(f"{name} is not a number JSON allows; send finite numbers only", "not_finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise LimitError(f"{text[:40]} is too large for a number; send finite numbers only", "not_finite")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > LIMITS.max_int_digits:
        raise LimitError(f"an integer of {len(text)} digits is too long; the limit is {LIMITS.max_int_digits}", "too_long")
    return int(text)


def parse_json(text: str | bytes, *, max_depth: int | None = None) -> Any:
    """Parse JSON strictly: at most `max_depth` levels deep, finite numbers only, no NaN/Infinity.

    Raises :class:`LimitError` for a limit and ``ValueError`` (``json.JSONDecodeError``) for bad JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    limit = LIMITS.max_json_depth if max_depth is None else max_depth
    if json_depth(text, limit + 1) > limit:
        raise LimitError(f"JSON nests deeper than {limit} levels; flatten it", "too_deep")
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_bounded_int)
