"""Turn execution for a served session: one action on a world → plan, narration, simulated frames.

A small adapter over ``World`` and the planner, in the manner of ``agent.playback``: every step
keeps a world snapshot, so ``rewind`` is a restore, and the MP4 export replays the applied turns
deterministically from their snapshots instead of keeping frames in memory.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.describe import caption_for
from agent.plan import NARRATION_MAX, TurnPlan
from renderer.geometry import GeometryRenderer, Pose
from simulator.scene import Scene
from simulator.state import WorldState
from simulator.world import EventError, World


class TurnError(ValueError):
    """A turn or rewind that cannot run; the message says why and what to do instead."""

    def __init__(self, code: str, message: str, field: str | None = None, value: Any = None):
        super().__init__(message)
        self.code, self.field, self.value = code, field, value


@dataclass
class TurnRecord:
    """One played turn: enough to replay it exactly."""

    action: str
    plan: TurnPlan
    applied: bytes
    """World snapshot right after the plan's events were applied (before simulating)."""
    duration: float
    planner_record: dict | None = None


@dataclass
class TurnRunner:
    """Owns a world and its step history. Use from one thread (the session's render thread)."""

    scene: Scene
    world: World = field(init=False)
    checkpoints: list[bytes] = field(init=False)
    """checkpoints[k]: the world at the end of step k (k = 0 is the scene's start)."""
    turns: list[TurnRecord] = field(default_factory=list, init=False)

    def __post_init__(self):
        self.world = World(self.scene)
        self.world.step_index = 0
        self.checkpoints = [self.world.snapshot()]

    @property
    def step(self) -> int:
        return len(self.turns)

    def state(self) -> WorldState:
        return self.world.state()

    def history(self) -> list[str]:
        return [t.plan.narration for t in self.turns[-5:] if t.plan.narration]

    def apply(self, action: str, plan: TurnPlan, duration: float, record: dict | None = None) -> None:
        """Apply the plan's events now (all or none) and remember the turn."""
        try:
            self.world.apply(plan.events)
        except EventError as exc:
            raise TurnError("bad_events", f"the events cannot apply to this world: {exc}", "events") from None
        self.world.step_index = self.step + 1
        self.turns.append(TurnRecord(action, plan, self.world.snapshot(), duration, record))

    def simulate(self, duration: float) -> Iterator[int]:
        """Integrate the current turn frame by frame (yield after each); checkpoints at the end."""
        yield from self.world.run(duration, self.scene.render.fps)
        self.checkpoints.append(self.world.snapshot())

    def rewind(self, step: int) -> None:
        if not 0 <= step <= self.step:
            raise TurnError("bad_step", f"rewind.step {step} is out of range; this session has steps 0 to "
                            f"{self.step} (0 is the scene's start)", "step", step)
        self.world.restore(self.checkpoints[step])
        self.world.step_index = step
        del self.checkpoints[step + 1 :]
        del self.turns[step:]

    def export_mp4(self, path: Path, width: int | None = None, height: int | None = None) -> int:
        """Replay every turn from the scene camera into an MP4; returns the frame count.

        Builds its own world and renderer, so it may run on any thread.
        """
        import imageio.v2 as imageio

        turns = list(self.turns)
        fps = self.scene.render.fps
        world = World(self.scene)
        count = 0
        with GeometryRenderer(self.scene, width, height, preset="fast") as geometry, imageio.get_writer(
            path, fps=fps, codec="libx264", quality=7, pixelformat="yuv420p", macro_block_size=2,
            ffmpeg_log_level="error",
        ) as out:
            out.append_data(geometry.render(world).rgb)
            count += 1
            for turn in turns:
                world.restore(turn.applied)
                for _ in world.run(turn.duration, fps):
                    out.append_data(geometry.render(world).rgb)
                    count += 1
        return count


class PlannerGate:
    """Turns an action into a plan. Pinned events play as written; otherwise the shared planner
    (one at a time, since a local model is not thread-safe), else the action is just narrated."""

    def __init__(self, planner=None):
        self.planner = planner
        self._lock = threading.Lock()

    def plan(self, world_state: WorldState, world: World | None, action: str, events, history) -> tuple[TurnPlan, dict | None]:
        if events is not None:
            plan = TurnPlan(narration=action[:NARRATION_MAX], events=list(events),
                            caption=caption_for(world_state, action))
            return plan, None
        if self.planner is None:
            return TurnPlan(narration=action[:NARRATION_MAX], caption=caption_for(world_state, action)), None
        with self._lock:
            outcome = self.planner.plan_turn(world_state, action, history)
        return outcome.plan, outcome.record


def check_events(world: World, events) -> None:
    """Refuse pinned events that cannot apply, before anything is changed."""
    problems = world.check(events)
    if problems:
        raise TurnError("bad_events", "action.events cannot apply to this world: " + "; ".join(problems) +
                        f". Entities here: {', '.join(sorted(world.entities))}", "events")


# ---- head pose → camera ---------------------------------------------------------------------


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def camera_yaw(scene: Scene) -> float:
    """Rotation about z taking MuJoCo +y (an identity XR pose's forward) to the camera's heading."""
    f = np.asarray(scene.camera.look_at, float) - np.asarray(scene.camera.position, float)
    if math.hypot(f[0], f[1]) < 1e-9:
        return 0.0
    return math.atan2(f[1], f[0]) - math.pi / 2


def home_pitch(scene: Scene) -> float:
    """The pitch of the scene camera (radians, negative looks down)."""
    f = np.asarray(scene.camera.look_at, float) - np.asarray(scene.camera.position, float)
    return math.atan2(f[2], math.hypot(f[0], f[1]))


def head_pose(scene: Scene, position, orientation) -> Pose:
    """A WebXR head pose, anchored so the XR origin is the scene camera and XR -z its heading.

    Pitch and roll stay the viewer's own, so the horizon stays level in a headset.
    """
    local = Pose.from_quaternion(position, orientation)
    rz = _rot_z(camera_yaw(scene))
    origin = np.asarray(scene.camera.position, float)
    return Pose(origin + rz @ local.position, rz @ local.forward, rz @ local.up)
