"""Replay, re-plan and export of recorded sessions.

Replay runs the same turn graph from the scene's start with the recorded plans in place of the
planner (no model call), and compares every step's physics snapshot hash and geometry frame hashes
with the recording. Re-planning is the separate, deliberate path: fork at a step, then ask the
planner again for each later action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from agent.turns.episode import Episode, TurnRejected
from agent.turns.graph import initial_state
from agent.turns.sessions import Session, SessionDB, SessionError
from agent.turns.turn import TurnRecord, as_record
from renderer.media import write_mp4
from simulator.state import STATE_SCHEMA_VERSION


@dataclass
class StepCheck:
    """One replayed step against its recording."""

    step: int
    recorded_sha: str
    replayed_sha: str
    frames_equal: bool
    frames: int

    @property
    def ok(self) -> bool:
        return self.recorded_sha == self.replayed_sha and self.frames_equal


@dataclass
class ReplayReport:
    """Every step's comparison; `identical` when all of them match."""

    session: str
    start_equal: bool
    steps: list[StepCheck] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.start_equal and all(s.ok for s in self.steps)


def replay(db: SessionDB, name: str, *, on_step=None) -> ReplayReport:
    """Re-simulate and re-render `name` from its recorded plans, comparing hashes step by step."""
    info = db.info(name)
    chain = db.chain(name)
    turns = [as_record(s.values["last_turn"]) for s in chain[1:]]
    scene = info.scene
    recorded = {t.step: t.plan for t in turns}
    with Episode(scene, db.store, thread=f"replay-{name}", preset=info.preset, recorded=recorded,
                 segment_mp4=False) as episode:
        start = initial_state(episode.ctx.world)
        report = ReplayReport(name, start_equal=start["snapshot_sha"] == chain[0].values["snapshot_sha"])
        episode.start(chain[0].values)
        for turn in turns:
            try:
                got = episode.turn(turn.request)
            except TurnRejected as exc:
                raise SessionError(f"replay of {name!r} step {turn.step} was rejected: {exc}") from None
            recorded_frames = db.store.get_json(turn.segment)["geometry"]
            replayed_frames = db.store.get_json(got.segment)["geometry"]
            check = StepCheck(turn.step, turn.snapshot_sha, got.snapshot_sha, recorded_frames == replayed_frames,
                              len(replayed_frames))
            report.steps.append(check)
            if on_step:
                on_step(check)
    return report


def replan(db: SessionDB, name: str, new_name: str, from_step: int, planner, *, on_turn=None) -> list[TurnRecord]:
    """Fork `name` at `from_step` into `new_name` and plan every later recorded action afresh."""
    turns = db.turns(name)
    if not 0 <= from_step <= len(turns):
        raise SessionError(f"--replan-from {from_step} is out of range for session {name!r}: choose 0 to "
                           f"{len(turns)}")
    db.fork(name, new_name, from_step)
    out = []
    with Session(db, new_name, planner=planner) as session:
        for turn in turns[from_step:]:
            record = session.turn(turn.request)
            out.append(record)
            if on_turn:
                on_turn(record)
    return out


def export(db: SessionDB, name: str, *, out: Path | None = None, state_out: Path | None = None) -> int:
    """Write the session's full MP4 and/or state JSONL (the `callosum play --state-out` format)."""
    info = db.info(name)
    turns = db.turns(name)
    scene = info.scene
    frames = 0
    if out is not None:
        if not turns:
            raise SessionError(f"session {name!r} has no turns yet; play one before exporting a video")
        refs = [ref for t in turns for ref in db.store.get_json(t.segment)["frames"]]
        frames = write_mp4(out, (db.store.get_png(ref) for ref in refs), scene.render.fps)
    if state_out is not None:
        state_out.parent.mkdir(parents=True, exist_ok=True)
        with state_out.open("w", encoding="utf-8") as f:
            header = {"schema_version": STATE_SCHEMA_VERSION, "scene": scene.name, "seed": scene.seed,
                      "fps": scene.render.fps, "session": name}
            f.write(json.dumps(header) + "\n")
            for t in turns:
                plan = (t.plan_record or t.plan).model_dump(mode="json")
                f.write(json.dumps({"step": t.step, "plan": plan}) + "\n")
                f.write(db.store.get_text(t.states))
    return frames
