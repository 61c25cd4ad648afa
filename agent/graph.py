"""The turn loop as a LangGraph ``StateGraph``.

``observe → plan → validate (→ plan, bounded) → simulate → render → commit → observe``

``observe`` waits for the next action with :func:`langgraph.types.interrupt`; a
``Command(resume={"action": ..., "events": ..., "duration": ...})`` runs one turn and the graph
comes back to wait again. Everything a checkpoint needs to restore the world exactly (the physics
snapshot, the plan) is in :class:`TurnState`; frames, trajectories and per-frame states live in the
content-addressed :class:`~agent.store.BlobStore` and the state holds their references. The
planner, the world, the renderers and the store come in through :class:`TurnContext`.
"""

from __future__ import annotations

import hashlib
import inspect
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.backends.scripted import pinned_plan
from agent.plan import TurnPlan
from agent.playback import open_mp4
from agent.store import BlobStore
from simulator._mujoco import mujoco
from simulator.scene import Scene, StepSpec
from simulator.world import World

GRAPH_SCHEMA_VERSION = 1
MAX_ATTEMPTS = 3
HISTORY_KEEP = 5
_INTEGRATION = mujoco.mjtState.mjSTATE_INTEGRATION


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TurnRecord(TypedDict):
    """One committed turn, as kept in the commit checkpoint (references only, no pixels)."""

    step: int
    """Turn index (0-based); the world's step index while it played."""
    action: str
    """What the user asked for."""
    pinned: bool
    """True when the events were given by the user and played as written."""
    duration: float
    """Seconds simulated."""
    plan: dict
    """The applied :class:`TurnPlan` as JSON."""
    plan_record: dict | None
    """The planner's own record of the call (model, attempts, raw output), when a model planned."""
    problems: list[str]
    """Validation problems of rejected attempts, and events dropped when attempts ran out."""
    snapshot_sha: str
    """sha256 of the physics snapshot after the turn."""
    time: float
    """Simulated time after the turn (s)."""
    segment: str
    """Blob reference of the segment manifest (frame references, MP4 reference, fps)."""
    states: str
    """Blob reference of the per-frame state JSONL (``{"step","time","entities"}`` lines)."""
    frames: int
    """Frames in the segment."""


class TurnState(TypedDict, total=False):
    """The graph state: small, JSON-like plus the snapshot bytes; saved in every checkpoint."""

    schema_version: int
    """Version of this state layout."""
    scene: str
    """Scene name (a snapshot only restores into a world of the same scene)."""
    step: int
    """Committed turns so far; also the index of the next turn."""
    snapshot: bytes
    """Physics snapshot after the last committed turn (``World.snapshot()``)."""
    snapshot_sha: str
    """sha256 of `snapshot`."""
    time: float
    """Simulated time after the last committed turn (s)."""
    history: list[str]
    """The last few narrations, for the planner's context."""
    last_turn: TurnRecord | None
    """The most recently committed turn."""
    error: str | None
    """Why the last requested turn was rejected (nothing was committed), or None."""
    # ---- the turn in progress ---------------------------------------------------------------
    action: str
    """The action being played."""
    pinned: list[dict] | None
    """User-given events (JSON), played without the planner."""
    duration: float
    """Seconds to simulate this turn."""
    plan: dict | None
    """The candidate plan (TurnPlan JSON)."""
    plan_record: dict | None
    """The planner's record for the candidate plan."""
    feedback: list[str]
    """Problems found with earlier attempts this turn."""
    attempts: int
    """Plans made this turn."""
    next_snapshot: bytes | None
    """Snapshot after simulating this turn (moved to `snapshot` on commit)."""
    trajectory: str | None
    """Blob reference: per-frame integration states of this turn (float64 array)."""
    states: str | None
    """Blob reference: per-frame state JSONL of this turn."""
    segment: str | None
    """Blob reference: this turn's segment manifest."""


@dataclass
class TurnContext:
    """What the nodes work with, passed as the graph's runtime context (never checkpointed)."""

    scene: Scene
    """The session's scene."""
    world: World
    """The live world; nodes restore it from the state's snapshot before they use it."""
    geometry: Any
    """A :class:`renderer.geometry.GeometryRenderer` made on the thread that runs the graph."""
    store: BlobStore
    """Where frames, MP4s, trajectories and state lines go."""
    planner: Any = None
    """A planner with ``plan_turn(state, action, history)``; None plays the scripted path."""
    video: Any = None
    """Optional video renderer (``render_segment(caption, geometry_frames)``)."""
    recorded: dict[int, dict] | None = None
    """Replay: plans by turn index, used instead of calling the planner."""
    max_attempts: int = MAX_ATTEMPTS
    """Plans tried per turn before events are dropped."""
    segment_mp4: bool = True
    """Also write each segment as an MP4 blob."""
    on_node: Callable[[str, dict], None] | None = None
    """Called as each node starts, with its name and the state (for progress lines)."""
    timings: list[tuple[str, float]] = field(default_factory=list)
    """(name, seconds) per node run, plus 'model', 'restore' and 'store' sub-timings."""
    world_sha: str | None = None
    """sha256 of the snapshot the live world currently holds, when known."""


def _sync(ctx: TurnContext, snapshot: bytes, sha: str, force: bool = False) -> None:
    if force or ctx.world_sha != sha:
        t0 = time.perf_counter()
        ctx.world.restore(snapshot)
        ctx.timings.append(("restore", time.perf_counter() - t0))
        ctx.world_sha = sha


def _timed(name: str, fn):
    def node(state: TurnState, runtime: Runtime[TurnContext]):
        ctx = runtime.context
        if ctx.on_node and name != "observe":
            ctx.on_node(name, state)
        t0 = time.perf_counter()
        out = fn(state, ctx)
        ctx.timings.append((name, time.perf_counter() - t0))
        return out

    node.__name__ = name
    return node


# ---- nodes ----------------------------------------------------------------------------------


def observe(state: TurnState, ctx: TurnContext) -> TurnState:
    request = interrupt({"step": state["step"], "time": state["time"], "snapshot_sha": state["snapshot_sha"]})
    action, events, duration = parse_request(request)
    return {
        "action": action, "pinned": events, "duration": duration, "plan": None, "plan_record": None,
        "feedback": [], "attempts": 0, "error": None, "next_snapshot": None, "trajectory": None,
        "states": None, "segment": None,
    }


def parse_request(request: Any) -> tuple[str, list[dict] | None, float]:
    """Check a resume payload: ``{"action": str, "events": [..] | None, "duration": float}``."""
    if not isinstance(request, dict):
        raise ValueError(f"turn request must be a dict with 'action', got {type(request).__name__}")
    unknown = set(request) - {"action", "events", "duration"}
    if unknown:
        raise ValueError(f"turn request has unknown keys {sorted(unknown)}; use action, events, duration")
    action = request.get("action") or ""
    events = request.get("events")
    duration = request.get("duration", 1.0)
    StepSpec.model_validate({"action": action, "events": events, "duration": duration})
    return action, events, float(duration)


def plan(state: TurnState, ctx: TurnContext) -> TurnState:
    _sync(ctx, state["snapshot"], state["snapshot_sha"])
    ctx.world.step_index = state["step"]
    world_state = ctx.world.state()
    attempts = state.get("attempts", 0) + 1
    turn = state["step"]
    if ctx.recorded is not None and turn in ctx.recorded:
        return {"plan": ctx.recorded[turn], "plan_record": None, "attempts": attempts}
    pinned = state.get("pinned")
    if pinned is not None or ctx.planner is None:
        return {"plan": scripted(world_state, state["action"], pinned or []), "plan_record": None,
                "attempts": attempts}
    action = state["action"]
    feedback = state.get("feedback") or []
    kwargs = {}
    if feedback:
        if "feedback" in inspect.signature(ctx.planner.plan_turn).parameters:
            kwargs["feedback"] = feedback
        else:
            action = f"{action}\n(An earlier plan was rejected: {'; '.join(feedback)})"
    t0 = time.perf_counter()
    outcome = ctx.planner.plan_turn(world_state, action, list(state.get("history", []))[-HISTORY_KEEP:], **kwargs)
    ctx.timings.append(("model", time.perf_counter() - t0))
    record = getattr(outcome, "record", None)
    return {"plan": outcome.plan.model_dump(mode="json"), "plan_record": record, "attempts": attempts}


def scripted(world_state, action: str, events: list[dict]) -> dict:
    """The no-model plan: the user's events as written, the action as narration."""
    return pinned_plan(world_state, action, events).model_dump(mode="json")


def validate(state: TurnState, ctx: TurnContext) -> TurnState:
    _sync(ctx, state["snapshot"], state["snapshot_sha"])
    problems = plan_problems(ctx.world, state["plan"])
    if not problems:
        return {"feedback": []}
    if state.get("pinned") is not None or ctx.recorded is not None:
        return {"feedback": problems, "error": "the events cannot apply: " + "; ".join(problems)}
    if state["attempts"] < ctx.max_attempts:
        return {"feedback": problems}
    # Attempts ran out: keep the words, drop the events, and say so in the record.
    fallback = dict(state["plan"], events=[])
    return {"plan": fallback, "feedback": [*problems, "events dropped after the last attempt"]}


def plan_problems(world: World, plan_json: dict) -> list[str]:
    """Problems with a plan: the planner's validator when present, then the world's own check."""
    try:
        parsed = TurnPlan.model_validate(plan_json)
    except ValueError as exc:
        return [f"plan: {exc}"]
    problems: list[str] = []
    try:
        from agent.validate import validate as validate_plan

        issues = validate_plan(world.state(), parsed)
        problems = [i.message if i.message.startswith(i.path) else f"{i.path or 'plan'}: {i.message}"
                    for i in issues]
    except ImportError:
        pass
    return problems or world.check(parsed.events)


def _after_validate(state: TurnState) -> str:
    if state.get("error"):
        return "observe"
    if state.get("feedback") and state["feedback"][-1:] != ["events dropped after the last attempt"]:
        return "plan"
    return "simulate"


def simulate(state: TurnState, ctx: TurnContext) -> TurnState:
    # Every turn starts from the checkpointed snapshot, so a turn is a pure function of
    # (snapshot, plan) whether the process ran the previous turn or was just restarted.
    _sync(ctx, state["snapshot"], state["snapshot_sha"], force=True)
    world = ctx.world
    world.step_index = state["step"]
    turn_plan = TurnPlan.model_validate(state["plan"])
    world.apply(turn_plan.events)
    frames, lines = [], []
    for _ in world.run(state["duration"], ctx.scene.render.fps):
        s = np.empty(mujoco.mj_stateSize(world.model, _INTEGRATION))
        mujoco.mj_getState(world.model, world.data, s, _INTEGRATION)
        frames.append(s)
        lines.append(world.state().model_dump_json(exclude={"schema_version"}))
    snap = world.snapshot()
    ctx.world_sha = sha256(snap)
    t0 = time.perf_counter()
    trajectory = ctx.store.put_array(np.stack(frames))
    states = ctx.store.put_text("\n".join(lines) + "\n", "jsonl")
    ctx.timings.append(("store", time.perf_counter() - t0))
    return {"next_snapshot": snap, "trajectory": trajectory, "states": states}


def render(state: TurnState, ctx: TurnContext) -> TurnState:
    world = ctx.world
    if ctx.world_sha != sha256(state["next_snapshot"]):
        simulate(state, ctx)  # the trajectory's model is the post-event model: rebuild it
    trajectory = ctx.store.get_array(state["trajectory"])
    need_maps = ctx.video is not None
    geometry = []
    for s in trajectory:
        mujoco.mj_setState(world.model, world.data, s, _INTEGRATION)
        mujoco.mj_kinematics(world.model, world.data)
        geometry.append(ctx.geometry.render(world, depth=need_maps, segmentation=need_maps))
    mujoco.mj_setState(world.model, world.data, trajectory[-1], _INTEGRATION)
    mujoco.mj_forward(world.model, world.data)
    t0 = time.perf_counter()
    geo_refs = [ctx.store.put_png(f.rgb) for f in geometry]
    frames = [f.rgb for f in geometry]
    refs = geo_refs
    if ctx.video is not None:
        caption = state["plan"].get("caption", "")
        segment = ctx.video.render_segment(caption, geometry)
        frames = [np.asarray(f) for f in segment.frames]
        refs = [ctx.store.put_png(f) for f in frames]
    manifest = {"fps": ctx.scene.render.fps, "frames": refs, "geometry": geo_refs, "mp4": None}
    if ctx.segment_mp4:
        manifest["mp4"] = _mp4_blob(ctx.store, frames, ctx.scene.render.fps)
    segment_ref = ctx.store.put_json(manifest)
    ctx.timings.append(("store", time.perf_counter() - t0))
    return {"segment": segment_ref}


def _mp4_blob(store: BlobStore, frames: list[np.ndarray], fps: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segment.mp4"
        write_mp4(path, frames, fps)
        return store.put(path.read_bytes(), "mp4")


def write_mp4(path: Path, frames, fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_mp4(path, fps) as writer:
        for rgb in frames:
            writer.append_data(rgb)


def commit(state: TurnState, ctx: TurnContext) -> TurnState:
    snap = state["next_snapshot"]
    sha = sha256(snap)
    turn_plan = state["plan"]
    feedback = state.get("feedback") or []
    manifest = ctx.store.get_json(state["segment"])
    record: TurnRecord = {
        "step": state["step"], "action": state["action"], "pinned": state.get("pinned") is not None,
        "duration": state["duration"], "plan": turn_plan, "plan_record": state.get("plan_record"),
        "problems": list(feedback), "snapshot_sha": sha, "time": round(float(ctx.world.data.time), 9),
        "segment": state["segment"], "states": state["states"], "frames": len(manifest["frames"]),
    }
    history = [*state.get("history", []), turn_plan.get("narration", "")][-HISTORY_KEEP:]
    return {
        "step": state["step"] + 1, "snapshot": snap, "snapshot_sha": sha, "time": record["time"],
        "history": history, "last_turn": record, "next_snapshot": None, "trajectory": None,
    }


# ---- the graph ------------------------------------------------------------------------------


def build_graph() -> StateGraph:
    g = StateGraph(TurnState, context_schema=TurnContext)
    for name, fn in (("observe", observe), ("plan", plan), ("validate", validate), ("simulate", simulate),
                     ("render", render), ("commit", commit)):
        g.add_node(name, _timed(name, fn))
    g.set_entry_point("observe")
    g.add_edge("observe", "plan")
    g.add_edge("plan", "validate")
    g.add_conditional_edges("validate", _after_validate, ["plan", "simulate", "observe"])
    g.add_edge("simulate", "render")
    g.add_edge("render", "commit")
    g.add_edge("commit", "observe")
    return g


def initial_state(world: World) -> TurnState:
    """The state before any turn: the scene's world at t = 0."""
    snap = world.snapshot()
    return {
        "schema_version": GRAPH_SCHEMA_VERSION, "scene": world.scene.name, "step": 0, "snapshot": snap,
        "snapshot_sha": sha256(snap), "time": round(float(world.data.time), 9), "history": [],
        "last_turn": None, "error": None,
    }
