"""Scripted playback: a scene file becomes a video, step by step, deterministically."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import imageio.v2 as imageio
import numpy as np

from agent.backends.scripted import scripted_plan
from agent.plan import TurnPlan
from renderer.geometry import GeometryFrame, GeometryRenderer, Preset
from simulator.scene import Scene
from simulator.state import STATE_SCHEMA_VERSION, WorldState
from simulator.world import World


class TurnPlanner(Protocol):
    """Anything that plans a turn from the world state, the action and recent narration."""

    def plan_turn(self, state: WorldState, action: str, history: list[str]) -> Any: ...


class SegmentRenderer(Protocol):
    """A video renderer: one generated segment per step from its caption and geometry frames."""

    def start(self, seed: int, fps: int) -> None: ...

    def render_segment(self, caption: str, geometry: list[GeometryFrame], progress=None) -> Any: ...


@dataclass
class Progress:
    """Callbacks the CLI turns into progress bars; all optional."""

    on_frame: Callable[[int], None] | None = None
    """Called with the number of frames just written."""
    on_step: Callable[[int, TurnPlan], None] | None = None
    """Called after a step's plan is applied, with its index and plan."""
    on_denoise: Callable[[int, int], None] | None = None
    """Called with (denoising step, total) while a video segment renders."""


@dataclass
class PlayResult:
    """What a playback produced."""

    frames: int
    """Frames written to the video."""
    final_state: WorldState
    """The world state after the last step."""
    plans: list[TurnPlan] = field(default_factory=list)
    """The plan applied at each step."""
    segments: list[Any] = field(default_factory=list)
    """Video segment outputs, when a video renderer ran."""


def total_frames(scene: Scene) -> int:
    return sum(max(1, round(s.duration * scene.render.fps)) for s in scene.steps)


def open_mp4(path: Path, fps: int):
    """An imageio writer for H.264 MP4 that any player opens (yuv420p, even sizes)."""
    return imageio.get_writer(path, fps=fps, codec="libx264", quality=8, pixelformat="yuv420p",
                              macro_block_size=2, ffmpeg_log_level="error")


class _Sinks:
    """The MP4, the state JSONL and the PNG folder, opened together and closed together."""

    def __init__(self, scene: Scene, out: Path | None, state_out: Path | None, frames_dir: Path | None):
        self.fps = scene.render.fps
        self.video = None
        self.states = None
        self.frames_dir = frames_dir
        self.count = 0
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.video = open_mp4(out, self.fps)
        if state_out is not None:
            state_out.parent.mkdir(parents=True, exist_ok=True)
            self.states = state_out.open("w", encoding="utf-8")
            header = {"schema_version": STATE_SCHEMA_VERSION, "scene": scene.name, "seed": scene.seed,
                      "fps": self.fps}
            self.states.write(json.dumps(header) + "\n")
        if frames_dir is not None:
            frames_dir.mkdir(parents=True, exist_ok=True)

    def frame(self, rgb: np.ndarray) -> None:
        if self.video is not None:
            self.video.append_data(rgb)
        if self.frames_dir is not None:
            imageio.imwrite(self.frames_dir / f"frame_{self.count:06d}.png", rgb)
        self.count += 1

    def state(self, state: WorldState) -> None:
        if self.states is not None:
            self.states.write(state.model_dump_json(exclude={"schema_version"}) + "\n")

    def record(self, line: dict) -> None:
        if self.states is not None:
            self.states.write(json.dumps(line) + "\n")

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
        if self.states is not None:
            self.states.close()


def play(
    scene: Scene,
    *,
    out: Path | None = None,
    state_out: Path | None = None,
    frames_dir: Path | None = None,
    stereo: bool = False,
    preset: Preset = "quality",
    planner: TurnPlanner | None = None,
    video: SegmentRenderer | None = None,
    progress: Progress | None = None,
) -> PlayResult:
    """Play every step of `scene`: plan (or take pinned events), apply, simulate, render, write."""
    progress = progress or Progress()
    world = World(scene)
    fps = scene.render.fps
    want_state = state_out is not None
    sinks = _Sinks(scene, out, state_out, frames_dir)
    history: list[str] = []
    result = PlayResult(frames=0, final_state=world.state())
    if video is not None:
        video.start(scene.seed, fps)
    try:
        with GeometryRenderer(scene, preset=preset) as geometry:
            for i, step in enumerate(scene.steps):
                world.step_index = i
                plan = _plan_step(world, step, planner, history, sinks, i)
                world.apply(plan.events)
                history.append(plan.narration)
                result.plans.append(plan)
                if progress.on_step:
                    progress.on_step(i, plan)
                geo_frames = []
                for _ in world.run(step.duration, fps):
                    frame = geometry.render(world, stereo=stereo, depth=video is not None,
                                            segmentation=video is not None)
                    if want_state:
                        sinks.state(world.state())
                    if video is None:
                        sinks.frame(frame.rgb)
                        if progress.on_frame:
                            progress.on_frame(1)
                    else:
                        geo_frames.append(frame)
                if video is not None:
                    segment = video.render_segment(plan.caption, geo_frames, progress=progress.on_denoise)
                    result.segments.append(segment)
                    for rgb in segment.frames:
                        sinks.frame(rgb)
                    if progress.on_frame:
                        progress.on_frame(len(segment.frames))
    finally:
        sinks.close()
    result.frames = sinks.count
    result.final_state = world.state()
    return result


def _plan_step(world: World, step, planner, history, sinks: _Sinks, index: int) -> TurnPlan:
    """Pinned events play as written; otherwise the planner plans from the action."""
    state = world.state()
    if step.events is not None or planner is None or not step.action:
        return scripted_plan(state, step)
    outcome = planner.plan_turn(state, step.action, history[-5:])
    sinks.record({"step": index, "plan": outcome.record})
    return outcome.plan
