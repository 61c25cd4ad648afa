"""Scripted playback: a scene file becomes a video, step by step, deterministically.

Each scene step is one :class:`~agent.turns.turn.TurnRequest` played by the turn engine
(:class:`~agent.turns.episode.Episode`), the same engine sessions, replay and the server use; this
module only writes what the turns left in the store to the MP4, the state JSONL and the PNG folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.planner import TurnPlan
from agent.turns.episode import Episode, TurnRejected
from agent.turns.graph import TurnPlanner
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRecord, TurnRequest
from renderer.media import MapWriter, open_mp4, write_png
from simulator.scene import Scene
from simulator.state import STATE_SCHEMA_VERSION, WorldState


class PlaybackError(ValueError):
    """A scene step that cannot play (its pinned events do not apply)."""


@dataclass
class Progress:
    """Callbacks the CLI turns into progress lines and bars; all optional."""

    on_node: Callable[[int, str], None] | None = None
    """Called as each stage of a step starts, with the step index and the node name."""
    on_frame: Callable[[int], None] | None = None
    """Called with the number of frames just written."""
    on_step: Callable[[int, TurnPlan], None] | None = None
    """Called after a step is committed, with its index and the applied plan."""
    on_denoise: Callable[[int, int], None] | None = None
    """Called with (denoising step, total) while a video segment renders."""


@dataclass
class PlayResult:
    """What a playback produced."""

    frames: int
    """Frames written to the video."""
    final_state: WorldState
    """The world state after the last step."""
    turns: list[TurnRecord] = field(default_factory=list)
    """The committed turn of each step."""

    @property
    def plans(self) -> list[TurnPlan]:
        """The plan applied at each step."""
        return [t.plan for t in self.turns]


def total_frames(scene: Scene) -> int | None:
    """Frames the scene's steps render; None when a step runs until rest (known only once it has)."""
    if any(s.duration is None for s in scene.steps):
        return None
    return sum(max(1, round(s.duration * scene.render.fps)) for s in scene.steps)


class _Sinks:
    """The MP4, the state JSONL and the PNG folder, opened together and closed together."""

    def __init__(self, scene: Scene, out: Path | None, state_out: Path | None, frames_dir: Path | None):
        self.video = open_mp4(out, scene.render.fps) if out is not None else None
        self.states = None
        self.frames_dir = frames_dir
        self.count = 0
        if state_out is not None:
            state_out.parent.mkdir(parents=True, exist_ok=True)
            self.states = state_out.open("w", encoding="utf-8")
            header = {"schema_version": STATE_SCHEMA_VERSION, "scene": scene.name, "seed": scene.seed,
                      "fps": scene.render.fps}
            self.states.write(json.dumps(header) + "\n")

    def frame(self, rgb: np.ndarray) -> None:
        if self.video is not None:
            self.video.append_data(rgb)
        if self.frames_dir is not None:
            write_png(self.frames_dir / f"frame_{self.count:06d}.png", rgb)
        self.count += 1

    def text(self, text: str) -> None:
        if self.states is not None:
            self.states.write(text)

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
    preset: str = "quality",
    planner: TurnPlanner | None = None,
    video: Any = None,
    progress: Progress | None = None,
    depth_dir: Path | None = None,
    seg_dir: Path | None = None,
) -> PlayResult:
    """Play every step of `scene` through the turn engine and write what each turn rendered.

    ``depth_dir`` / ``seg_dir``: also write each frame's depth (16-bit PNG, millimetres) and
    segmentation (indexed PNG and ``legend.json``), rendered from the turn's recorded states."""
    progress = progress or Progress()
    store_dir = Path(tempfile.mkdtemp(prefix="callosum-play-"))
    sinks = _Sinks(scene, out, state_out, frames_dir)
    maps = MapWriter(depth_dir, seg_dir) if depth_dir is not None or seg_dir is not None else None
    result = PlayResult(frames=0, final_state=WorldState(step=0, time=0.0, entities={}))
    step = {"index": 0}
    on_node = (lambda name, _state: progress.on_node(step["index"], name)) if progress.on_node else None
    try:
        with Episode(scene, BlobStore(store_dir), preset=preset, planner=planner, video=video, stereo=stereo,
                     segment_mp4=False, durability="exit", on_node=on_node,
                     on_denoise=progress.on_denoise) as episode:
            episode.start()
            for i, spec in enumerate(scene.steps):
                step["index"] = i
                record = _play_step(episode, i, TurnRequest.model_validate(spec, from_attributes=True))
                result.turns.append(record)
                if progress.on_step:
                    progress.on_step(i, record.plan)
                if record.plan_record is not None:
                    sinks.text(json.dumps({"step": i, "plan": record.plan_record.model_dump(mode="json")}) + "\n")
                sinks.text(episode.states_jsonl(record))
                for rgb in episode.frames(record):
                    sinks.frame(rgb)
                if maps is not None:
                    _write_maps(episode, record, maps, stereo)
                if progress.on_frame:
                    progress.on_frame(record.frames)
            result.final_state = episode.world_state()
    finally:
        sinks.close()
        if maps is not None:
            maps.close()
        shutil.rmtree(store_dir, ignore_errors=True)
    result.frames = sinks.count
    return result


def _write_maps(episode: Episode, record: TurnRecord, maps: MapWriter, stereo: bool) -> None:
    """Render depth and segmentation for each recorded state of the turn (the same states as its frames)."""
    world, geometry = episode.ctx.world, episode.ctx.geometry
    trajectory = episode.trajectory(record)
    for s in trajectory:
        world.set_integration_state(s)
        frame = geometry.render(world, stereo=stereo, depth=True, segmentation=True)
        maps.write(frame.depth, frame.segmentation, frame.labels)
    world.set_integration_state(trajectory[-1], forward=True)


def _play_step(episode: Episode, index: int, request: TurnRequest) -> TurnRecord:
    try:
        return episode.turn(request)
    except TurnRejected as exc:
        raise PlaybackError(f"steps[{index}]: {exc}") from None
