"""A Gymnasium facade over the turn graph:
``gymnasium.make("agent.turns.gym_env:callosum/World-v0", scene=PATH)``.

Gymnasium 1.x imports the module named before the ``:`` and finds the id it registers, so nothing
needs importing by hand (Gymnasium 1.0 dropped the ``gymnasium.envs`` entry-point plugins that
0.26-0.29 loaded at import). Once this module is imported, ``gymnasium.make("callosum/World-v0")``
works as well.

The action is text (a :class:`gymnasium.spaces.Text` bounded by ``LIMITS.max_action_chars``).
Plain text is an action for the planner (with the scripted planner it is narration and time
passes). Text that is a JSON object, ``{"action": "...", "events": [...]}``, carries pinned events
that play as written. Each step simulates ``duration`` seconds; the observation holds that
segment's frames, the last frame and the entity state; ``info`` holds the plan, the narration, the
step (the session's step after the turn: turns committed so far) and the snapshot hash. An action
that cannot play (bad JSON, events that do not apply) changes nothing: the step returns the
unchanged observation, reward 0, and says why in ``info["rejected"]``. There is no task, so the
reward is 0 and episodes end only by truncation (``max_turns``, which counts rejected steps too).

With ``db`` (a ``--db`` value: a SQLite path or ``postgresql://…``) every episode is also a durable
session in that store (``info["session"]`` names it), driven under its lease like any other.
"""

from __future__ import annotations

import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import ValidationError

from agent.turns.episode import Episode, TurnRejected
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRequest
from simulator.limits import LIMITS, parse_json
from simulator.loader import load_scene
from simulator.world import World

ENV_ID = "callosum/World-v0"
STATE_FIELDS = 13
"""Per entity: position (3), orientation quaternion wxyz (4), velocity (3), angular velocity (3)."""
STATE_BOUND = 1e4
"""State values are clipped to ±this (m, m/s, rad/s); anything beyond is already unphysical."""
ACTION_CHARSET = string.ascii_letters + string.digits + string.punctuation + " "


class WorldEnv(gym.Env):
    """A Callosum world as a Gymnasium environment (one turn per step)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 24}

    def __init__(self, scene: str | Path, planner: str | Any = "scripted", render_mode: str | None = "rgb_array",
                 duration: float = 0.5, max_entities: int = 16, max_turns: int | None = None,
                 preset: str = "fast", store_dir: str | Path | None = None, db: str | Path | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        if not LIMITS.min_turn_seconds <= duration <= LIMITS.max_turn_seconds:
            raise ValueError(f"duration must lie between {LIMITS.min_turn_seconds:g} and {LIMITS.max_turn_seconds:g} "
                             f"seconds, got {duration}")
        self.render_mode = render_mode
        self.duration = duration
        self.max_entities = max_entities
        self.max_turns = max_turns
        self.preset = preset
        self._planner = _make_planner(planner)
        self._scene_path = Path(scene)
        self.scene = load_scene(self._scene_path)
        self.metadata = {**self.metadata, "render_fps": self.scene.render.fps}
        self._own_store = store_dir is None
        self._store_dir = Path(store_dir) if store_dir else Path(tempfile.mkdtemp(prefix="callosum-env-"))
        self.store = BlobStore(self._store_dir)
        h, w = self.scene.render.height, self.scene.render.width
        frame = spaces.Box(0, 255, (h, w, 3), np.uint8)
        self.observation_space = spaces.Dict({
            "frame": frame,
            "frames": spaces.Sequence(frame, stack=True),
            "state": spaces.Box(-STATE_BOUND, STATE_BOUND, (max_entities, STATE_FIELDS), np.float64),
        })
        self.action_space = spaces.Text(max_length=LIMITS.max_action_chars, min_length=0, charset=ACTION_CHARSET)
        self._geometry = None
        self._episode_engine: Episode | None = None
        self._db = None
        if db is not None:
            from agent.turns.sessions import SessionDB

            self._db = SessionDB(db)
        self._session = None
        self._episode = 0
        self._last_frame: np.ndarray | None = None
        self._turns = 0
        self._step = 0

    # ---- gymnasium API --------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        if "scene" in options:
            scene = load_scene(options.pop("scene"))
            r = scene.render
            if (r.height, r.width) != (self.scene.render.height, self.scene.render.width):
                raise ValueError(f"options['scene'] renders {r.width}x{r.height}, but this env's observation "
                                 f"space is {self.scene.render.width}x{self.scene.render.height}; make a new env")
            self.scene = scene
            self._close_geometry()
        if options:
            raise ValueError(f"reset options {sorted(options)} are not known; the only option is 'scene'")
        if self._geometry is None:
            from renderer.geometry import GeometryRenderer

            self._geometry = GeometryRenderer(self.scene, preset=self.preset)
        self._episode += 1
        self._turns = self._step = 0
        state, extra = self._start_episode()
        world = self._episode_engine.ctx.world
        frame = self._geometry.render(world).rgb
        self._last_frame = frame
        obs = {"frame": frame.copy(), "frames": frame[None].copy(), "state": self._state_array(world)}
        return obs, {"step": 0, "time": state["time"], "snapshot_sha": state["snapshot_sha"],
                     "entities": list(world.entities), **extra}

    def _start_episode(self) -> tuple[dict, dict]:
        """A fresh episode engine (in memory, or a new durable session with ``db``): its start state."""
        self._end_session()
        if self._db is None:
            self._episode_engine = Episode(self.scene, self.store, thread=f"episode-{self._episode}",
                                           geometry=self._geometry, planner=self._planner, segment_mp4=False)
            return self._episode_engine.start(), {}
        from agent.turns.sessions import Session

        name = self._db.unique_name(f"gym-{self.scene.name}")
        self._db.create(name, self.scene, str(self._scene_path), self.preset)
        self._session = Session(self._db, name, planner=self._planner, geometry=self._geometry,
                                segment_mp4=False, driver="callosum gym env")
        self._episode_engine = self._session.episode
        return self._session.state, {"session": name}

    def _end_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def step(self, action: str):
        if self._episode_engine is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(action, str):
            raise TypeError(f"the action must be text (str), got {type(action).__name__}")
        self._turns += 1
        truncated = self.max_turns is not None and self._turns >= self.max_turns
        world = self._episode_engine.ctx.world
        try:
            turn = (self._session or self._episode_engine).turn(_request(action, self.duration))
        except (ValueError, TurnRejected) as exc:  # nothing changed: the same observation, and why
            obs = {"frame": self._last_frame.copy(), "frames": self._last_frame[None].copy(),
                   "state": self._state_array(world)}
            info = {"rejected": str(exc), "step": self._step, "time": round(world.time, 9),
                    "entities": list(world.entities)}
            return obs, 0.0, False, truncated, info
        frames = np.stack(self._episode_engine.frames(turn))
        self._last_frame = frames[-1]
        self._step = turn.end_step
        obs = {"frame": frames[-1].copy(), "frames": frames, "state": self._state_array(world)}
        info = {"plan": turn.plan.model_dump(mode="json"), "narration": turn.narration, "step": turn.end_step,
                "time": turn.time, "snapshot_sha": turn.snapshot_sha, "problems": turn.problems,
                "entities": list(world.entities)}
        return obs, 0.0, False, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return None if self._last_frame is None else self._last_frame.copy()

    def close(self):
        self._end_session()
        if self._db is not None:
            self._db.close()
            self._db = None
        self._close_geometry()
        if self._own_store:
            shutil.rmtree(self._store_dir, ignore_errors=True)

    # ---- helpers --------------------------------------------------------------------------

    def _close_geometry(self) -> None:
        if self._geometry is not None:
            self._geometry.close()
            self._geometry = None

    def _state_array(self, world: World) -> np.ndarray:
        out = np.zeros((self.max_entities, STATE_FIELDS))
        for i, e in enumerate(list(world.state().entities.values())[: self.max_entities]):
            out[i] = [*e.position, *e.orientation, *e.velocity, *e.angular_velocity]
        return np.clip(out, -STATE_BOUND, STATE_BOUND)


def _request(action: str, duration: float) -> TurnRequest:
    """The gym's text action as a checked :class:`TurnRequest` (JSON text may pin events)."""
    payload = {"action": action, "events": None}
    text = action.strip()
    if text.startswith("{"):
        try:
            parsed = parse_json(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict) and set(parsed) <= {"action", "events"}:
            payload = {"action": parsed.get("action", ""), "events": parsed.get("events")}
    try:
        return TurnRequest(action=payload["action"] or None, events=payload["events"], duration=duration)
    except ValidationError as exc:
        raise ValueError(f"action {action[:80]!r} is not a valid turn: {exc}") from None


def _make_planner(planner):
    if planner is None or planner == "scripted":
        return None
    if not isinstance(planner, str):
        return planner
    from agent.planner import Planner, make_backend

    return Planner(make_backend(planner))


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="agent.turns.gym_env:WorldEnv")
