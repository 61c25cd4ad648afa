"""The turn loop as a LangGraph ``StateGraph``: ``observe → plan → validate → simulate → render → commit``.

``observe`` waits for the next :class:`~agent.turns.turn.TurnRequest` with
:func:`langgraph.types.interrupt`; ``Command(resume=request.model_dump(mode="json"))`` runs one turn
and the graph comes back to wait again. Nodes are plain functions that return partial state.

Everything a checkpoint needs to restore the world exactly (the physics snapshot, the plan) is in
:class:`TurnState`; frames, trajectories and per-frame states live in the content-addressed
:class:`~agent.turns.store.BlobStore` and the state holds their references. The planner, the world,
the renderers and the store come in through :class:`TurnContext`. Drive the graph through
:class:`agent.turns.episode.Episode`, the one turn engine.

Every plan is validated exactly once: the planner validates (and retries) the plans a model makes,
against the same world state the ``plan`` node gives it; ``validate`` checks the rest (events the
user pinned, plans recorded for a replay).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypedDict

import numpy as np
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.planner import HISTORY_TURNS, BackendError, PlanRecord, TurnPlan, pinned_plan, reconcile
from agent.planner import validate as validate_plan
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRecord
from renderer.media import write_mp4
from simulator.scene import CameraSpec, Scene
from simulator.state import WorldState
from simulator.world import World

if TYPE_CHECKING:
    from renderer.geometry import GeometryRenderer
    from renderer.video.base import VideoRenderer

GRAPH_SCHEMA_VERSION = 2


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TurnPlanner(Protocol):
    """What the turn loop needs of a planner: a validated plan for the action, and its record.

    The plan's events must have passed :func:`agent.planner.validate` against `state`
    (the planner retries the model with the reasons until they do, or plans no events)."""

    def plan_turn(self, state: WorldState, action: str, history: list[str], *, camera: CameraSpec):
        """`camera` is the scene camera that "left" and "toward me" refer to. Returns an object with ``plan`` (:class:`TurnPlan`), ``record`` (JSON-ready dict) and
        ``problems`` (what went wrong on the way, in words)."""
        ...


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
    """The last narrations the planner reads (``HISTORY_TURNS`` of them)."""
    last_turn: dict | None
    """The most recently committed :class:`TurnRecord`, as JSON."""
    error: str | None
    """Why the last requested turn was rejected (nothing was committed), or None."""
    # ---- the turn in progress ---------------------------------------------------------------
    request: dict
    """The :class:`TurnRequest` being played, as JSON."""
    plan: dict | None
    """The plan (TurnPlan JSON): the candidate, then the one applied."""
    plan_record: dict | None
    """The planner's record for the plan, when a model planned."""
    checked: bool
    """True when the planner already validated `plan` against this turn's world state."""
    problems: list[str]
    """Problems the planner met on the way (rejected attempts, dropped events)."""
    outcome: dict | None
    """What the physics did this turn (from the states before, during and after)."""
    disagreement: dict | None
    """The planned narration that contradicted the outcome, why, and what replaced it; else None."""
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
    geometry: GeometryRenderer
    """The geometry renderer, made on the thread that runs the graph."""
    store: BlobStore
    """Where frames, MP4s, trajectories and state lines go."""
    planner: TurnPlanner | None = None
    """Plans requests that are not pinned; None narrates the action and plans no events."""
    video: VideoRenderer | None = None
    """Optional video renderer: one generated segment per turn from the caption and geometry."""
    recorded: dict[int, dict] | None = None
    """Replay: plans by turn index, used instead of calling the planner."""
    stereo: bool = False
    """Render side-by-side stereo pairs."""
    segment_mp4: bool = True
    """Also write each segment as an MP4 blob."""
    on_node: Callable[[str, dict], None] | None = None
    """Called as each node starts, with its name and the state (for progress lines)."""
    on_denoise: Callable[[int, int], None] | None = None
    """Called with (denoising step, total) while a video segment renders."""
    timings: list[tuple[str, float]] = field(default_factory=list)
    """(name, seconds) per node run, plus 'model', 'restore' and 'store' sub-timings."""
    world_sha: str | None = None
    """sha256 of the snapshot the live world currently holds, when known."""


def sync_world(ctx: TurnContext, snapshot: bytes, sha: str, force: bool = False) -> None:
    """Bring the live world to `snapshot` unless it is already there (or `force`)."""
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
    return {
        "request": request, "plan": None, "plan_record": None, "checked": False, "problems": [], "outcome": None,
        "disagreement": None, "error": None, "next_snapshot": None, "trajectory": None, "states": None, "segment": None,
    }


def _pinned(request: dict) -> bool:
    return request.get("events") is not None or not (request.get("action") or "").strip()


def plan(state: TurnState, ctx: TurnContext) -> TurnState:
    sync_world(ctx, state["snapshot"], state["snapshot_sha"])
    turn, request = state["step"], state["request"]
    world_state = ctx.world.state().model_copy(update={"step": turn})
    if ctx.recorded is not None and turn in ctx.recorded:
        return {"plan": ctx.recorded[turn]}
    if _pinned(request) or ctx.planner is None:
        made = pinned_plan(world_state, request.get("action") or "", request.get("events") or [])
        return {"plan": made.model_dump(mode="json")}
    t0 = time.perf_counter()
    try:
        outcome = ctx.planner.plan_turn(world_state, request["action"], list(state.get("history", [])),
                                        camera=ctx.scene.camera)
    except BackendError as exc:  # a broken model server: the turn goes on without events, and says why
        reason = f"the planner failed ({type(exc).__name__}: {exc}); no events were planned, time passes"
        made = pinned_plan(world_state, request["action"], [])
        failed = PlanRecord(fell_back=True, error=reason, action=request["action"])
        return {"plan": made.model_dump(mode="json"), "checked": True, "problems": [reason],
                "plan_record": failed.model_dump(mode="json")}
    ctx.timings.append(("model", time.perf_counter() - t0))
    return {"plan": outcome.plan.model_dump(mode="json"), "plan_record": outcome.record.model_dump(mode="json"),
            "checked": True,
            "problems": outcome.problems}


def validate(state: TurnState, ctx: TurnContext) -> TurnState:
    if state.get("checked"):
        return {}
    sync_world(ctx, state["snapshot"], state["snapshot_sha"])
    problems = plan_problems(ctx.world, state["plan"])
    if problems:
        return {"error": "the events cannot apply: " + "; ".join(problems)}
    return {}


def plan_problems(world: World, plan_json: dict) -> list[str]:
    """Problems with a plan against the world as it is: :func:`agent.planner.validate`."""
    try:
        parsed = TurnPlan.model_validate(plan_json)
    except ValueError as exc:
        return [f"plan: {exc}"]
    issues = validate_plan(world.state(), parsed)
    return [i.message for i in issues]


def _after_validate(state: TurnState) -> str:
    return "observe" if state.get("error") else "simulate"


def simulate(state: TurnState, ctx: TurnContext) -> TurnState:
    # Every turn starts from the checkpointed snapshot, so a turn is a pure function of
    # (snapshot, plan) whether the process ran the previous turn or was just restarted.
    sync_world(ctx, state["snapshot"], state["snapshot_sha"], force=True)
    world = ctx.world
    turn_plan = TurnPlan.model_validate(state["plan"])
    before = world.state()
    world.apply(turn_plan.events, step=state["step"])
    frames, seen = [], []
    for _ in world.run(state["request"]["duration"], ctx.scene.render.fps):
        frames.append(world.integration_state())
        seen.append(world.state())
    lines = [s.model_dump_json(exclude={"schema_version"}) for s in seen]
    snap = world.snapshot()
    ctx.world_sha = sha256(snap)
    t0 = time.perf_counter()
    trajectory = ctx.store.put_array(np.stack(frames))
    states = ctx.store.put_text("\n".join(lines) + "\n", "jsonl")
    ctx.timings.append(("store", time.perf_counter() - t0))
    # The words must not contradict the physics: the narration is checked against what happened,
    # and the video caption is written from it.
    done = reconcile(before, seen[-1], turn_plan, ctx.scene.camera, seen)
    return {"next_snapshot": snap, "trajectory": trajectory, "states": states,
            "plan": done.plan.model_dump(mode="json"), "outcome": done.outcome, "disagreement": done.disagreement}


def render(state: TurnState, ctx: TurnContext) -> TurnState:
    world = ctx.world
    if ctx.world_sha != sha256(state["next_snapshot"]):
        simulate(state, ctx)  # resumed after a crash: the trajectory's model is the post-event model
    trajectory = ctx.store.get_array(state["trajectory"])
    need_maps = ctx.video is not None
    geometry = []
    for s in trajectory:
        world.set_integration_state(s)
        geometry.append(ctx.geometry.render(world, stereo=ctx.stereo, depth=need_maps, segmentation=need_maps))
    world.set_integration_state(trajectory[-1], forward=True)
    t0 = time.perf_counter()
    geo_refs = [ctx.store.put_png(f.rgb) for f in geometry]
    frames = [f.rgb for f in geometry]
    refs = geo_refs
    if ctx.video is not None:
        caption = state["plan"].get("caption", "")
        segment = ctx.video.render_segment(caption, geometry, progress=ctx.on_denoise)
        frames = [np.asarray(f) for f in segment.frames]
        refs = [ctx.store.put_png(f) for f in frames]
    manifest = {"fps": ctx.scene.render.fps, "frames": refs, "geometry": geo_refs, "mp4": None}
    if ctx.segment_mp4:
        manifest["mp4"] = _mp4_blob(ctx.store, frames, ctx.scene.render.fps)
    segment_ref = ctx.store.put_json(manifest)
    ctx.timings.append(("store", time.perf_counter() - t0))
    return {"segment": segment_ref}


def _mp4_blob(store: BlobStore, frames: list[np.ndarray], fps: int) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segment.mp4"
        write_mp4(path, frames, fps)
        return store.put(path.read_bytes(), "mp4")


def commit(state: TurnState, ctx: TurnContext) -> TurnState:
    snap = state["next_snapshot"]
    sha = sha256(snap)
    request = state["request"]
    manifest = ctx.store.get_json(state["segment"])
    record = TurnRecord(
        step=state["step"], action=request.get("action") or "", pinned=_pinned(request),
        duration=request["duration"], plan=TurnPlan.model_validate(state["plan"]),
        plan_record=state.get("plan_record"), problems=list(state.get("problems") or []),
        outcome=state.get("outcome"), disagreement=state.get("disagreement"), snapshot_sha=sha, time=round(float(ctx.world.data.time), 9),
        segment=state["segment"], states=state["states"], trajectory=state["trajectory"],
        frames=len(manifest["frames"]),
    )
    history = [*state.get("history", []), record.narration][-HISTORY_TURNS:]
    return {
        "step": state["step"] + 1, "snapshot": snap, "snapshot_sha": sha, "time": record.time,
        "history": history, "last_turn": record.model_dump(mode="json"), "next_snapshot": None,
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
    g.add_conditional_edges("validate", _after_validate, ["simulate", "observe"])
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
