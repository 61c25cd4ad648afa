"""The turn loop as a LangGraph ``StateGraph``:
``observe → plan → validate → simulate → reconcile → render → commit``
(``validate`` only for plans no planner checked).

``observe`` waits for the next :class:`~agent.turns.turn.TurnRequest` with
:func:`langgraph.types.interrupt`; ``Command(resume=request)`` runs one turn and the graph comes back
to wait again. Nodes are plain functions that return partial state.

The state carries typed objects (the :class:`TurnRequest`, the :class:`~agent.planner.TurnPlan`, the
committed :class:`TurnRecord`): nodes pass them on as they are, and only the checkpointer turns them
into bytes and back (LangGraph's msgpack serde, restricted to :data:`CHECKPOINT_TYPES` by
:func:`checkpoint_serde`). Everything a checkpoint needs to restore the world exactly (the physics
snapshot, the plan) is in :class:`TurnState`; frames, trajectories and per-frame states live in the
content-addressed :class:`~agent.turns.store.BlobStore` and the state holds their references. What a
node produced for the turn in progress (the trajectory, the states, the frames) reaches the next
nodes in memory (:class:`Simulated`, :class:`Rendered` on the context); the store is written, never
read back, within one turn. The planner, the world, the renderers and the store come in through
:class:`TurnContext`. Drive the graph through :class:`agent.turns.episode.Episode`, the one turn engine.

Every plan is validated exactly once: the planner validates (and retries) the plans a model makes,
against the same world state the ``plan`` node gives it, and those go from ``plan`` straight to
``simulate``; ``validate`` checks the rest (events the user pinned, plans recorded for a replay).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, get_args, get_type_hints

import numpy as np
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel

from agent.planner import HISTORY_TURNS, BackendError, Imagination, PlanRecord, TurnPlan, pinned_plan, reconcile
from agent.planner import validate as validate_plan
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRecord, TurnRequest
from renderer.media import write_mp4
from simulator.imagine import Imaginer
from simulator.scene import CameraSpec, Scene
from simulator.state import WorldState
from simulator.world import World

if TYPE_CHECKING:
    from renderer.geometry import GeometryRenderer
    from renderer.video.base import Anchor, VideoRenderer

GRAPH_SCHEMA_VERSION = 3
"""3: the request, the plan and the last turn are typed objects in the state (2: JSON dicts)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TurnPlanner(Protocol):
    """What the turn loop needs of a planner: a validated plan for the action, and its record.

    The plan's events must have passed :func:`agent.planner.validate` against `state`
    (the planner retries the model with the reasons until they do, or plans no events)."""

    def plan_turn(self, state: WorldState, action: str, history: list[str], *, camera: CameraSpec,
                  imagination: Imagination | None = None):
        """`camera` is the scene camera that "left" and "toward me" refer to; `imagination` rolls
        candidate events forward on a scratch copy of the live world (goal search). Returns an object with
        ``plan`` (:class:`TurnPlan`), ``record`` (the planner's record, carried into the
        :class:`TurnRecord` as it is) and ``problems`` (what went wrong on the way, in words)."""
        ...


class TurnState(TypedDict, total=False):
    """The graph state: small typed values plus the snapshot bytes; saved in every checkpoint."""

    schema_version: int
    """Version of this state layout."""
    scene: str
    """Scene name (a snapshot only restores into a world of the same scene)."""
    step: int
    """Committed turns so far; also the index (0-based) of the next turn."""
    snapshot: bytes
    """Physics snapshot after the last committed turn (``World.snapshot()``)."""
    snapshot_sha: str
    """sha256 of `snapshot`."""
    time: float
    """Simulated time after the last committed turn (s)."""
    history: list[str]
    """The last narrations the planner reads (``HISTORY_TURNS`` of them)."""
    last_turn: TurnRecord | None
    """The most recently committed turn."""
    error: str | None
    """Why the last requested turn was rejected (nothing was committed), or None."""
    # ---- the turn in progress ---------------------------------------------------------------
    request: TurnRequest
    """The request being played."""
    plan: TurnPlan | None
    """The plan: the candidate, then (after ``reconcile``) the one applied."""
    plan_record: PlanRecord | None
    """The planner's record for the plan, when a model planned (carried as it is, never read here)."""
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
    next_time: float | None
    """Simulated time after this turn (s)."""
    trajectory: str | None
    """Blob reference: per-frame integration states of this turn (float64 array)."""
    states: str | None
    """Blob reference: per-frame state JSONL of this turn."""
    segment: str | None
    """Blob reference: this turn's segment manifest."""
    frames: int | None
    """Frames in this turn's segment."""


@dataclass
class Simulated:
    """What ``simulate`` produced for the turn in progress, handed to ``reconcile`` and ``render`` in
    memory (never checkpointed: a resumed turn simulates again)."""

    trajectory: str
    """Blob reference of `integration` (identifies the turn: the store is content-addressed)."""
    snapshot_sha: str
    """sha256 of the snapshot after the turn (the live world holds it while this is current)."""
    before: WorldState
    """The world before the turn (before its events applied)."""
    states: list[WorldState]
    """The world at each frame."""
    integration: np.ndarray
    """The per-frame integration states (float64, one row per frame)."""
    lines: str
    """`states` as the JSONL the store holds (``{"step","time","entities"}`` lines)."""


@dataclass
class Rendered:
    """What ``render`` produced for the turn in progress, in memory (the store holds the same as PNGs)."""

    segment: str
    """Blob reference of the segment manifest."""
    frames: list[np.ndarray]
    """The segment's frames, RGB (the video model's when one ran, else the geometry pass's)."""
    geometry: list[np.ndarray]
    """The geometry pass's frames, RGB, from the scene camera."""
    stereo: bool
    """True when the geometry frames are side-by-side stereo pairs."""


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
    """Optional video renderer: one generated segment per turn from the caption and geometry, anchored
    on the committed turn the turn starts from (:func:`video_anchor`)."""
    recorded: dict[int, TurnPlan] | None = None
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
    simulated: Simulated | None = None
    """The latest turn's simulation, in memory."""
    rendered: Rendered | None = None
    imaginer: Imaginer | None = None
    """The scratch world goal search imagines on (made on first use; never the live world)."""
    """The latest turn's frames, in memory."""

    def imagination(self) -> Imagination:
        """Rollouts from the live world as it is now, on a scratch world made once per context."""
        if self.imaginer is None:
            self.imaginer = Imaginer(self.scene)
        return Imagination(self.imaginer, self.world.snapshot())

    def forget(self) -> None:
        """The live world and the in-memory turn are stale (a failed turn, a rewind elsewhere)."""
        self.world_sha, self.simulated, self.rendered = None, None, None


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
    if not isinstance(request, TurnRequest):
        raise TypeError(f"resume the turn graph with a TurnRequest, got {type(request).__name__}")
    return {
        "request": request, "plan": None, "plan_record": None, "checked": False, "problems": [], "outcome": None,
        "disagreement": None, "error": None, "next_snapshot": None, "next_time": None, "trajectory": None,
        "states": None, "segment": None, "frames": None,
    }


def plan(state: TurnState, ctx: TurnContext) -> TurnState:
    sync_world(ctx, state["snapshot"], state["snapshot_sha"])
    turn, request = state["step"], state["request"]
    world_state = ctx.world.state().model_copy(update={"step": turn})
    if ctx.recorded is not None and turn in ctx.recorded:
        return {"plan": ctx.recorded[turn]}
    if request.pinned or ctx.planner is None:
        return {"plan": pinned_plan(world_state, request.action or "", request.events or [])}
    t0 = time.perf_counter()
    try:
        planned = ctx.planner.plan_turn(world_state, request.action, list(state.get("history", [])),
                                        camera=ctx.scene.camera, imagination=ctx.imagination())
    except BackendError as exc:  # a broken model server: the turn goes on without events, and says why
        reason = f"the planner failed ({type(exc).__name__}: {exc}); no events were planned, time passes"
        failed = PlanRecord(fell_back=True, error=reason, action=request.action)
        return {"plan": pinned_plan(world_state, request.action, []), "checked": True, "problems": [reason],
                "plan_record": failed}
    ctx.timings.append(("model", time.perf_counter() - t0))
    return {"plan": planned.plan, "plan_record": planned.record, "checked": True,
            "problems": list(planned.problems)}


def validate(state: TurnState, ctx: TurnContext) -> TurnState:
    sync_world(ctx, state["snapshot"], state["snapshot_sha"])
    problems = plan_problems(ctx.world, state["plan"])
    if problems:
        return {"error": "the events cannot apply: " + "; ".join(problems)}
    return {}


def plan_problems(world: World, turn_plan: TurnPlan) -> list[str]:
    """Problems with a plan against the world as it is: :func:`agent.planner.validate`."""
    issues = validate_plan(world.state(), turn_plan)
    return [i.message for i in issues]


def _after_plan(state: TurnState) -> str:
    """A plan the planner validated against this very state goes straight on (no empty ``validate`` step)."""
    return "simulate" if state.get("checked") else "validate"


def _after_validate(state: TurnState) -> str:
    return "observe" if state.get("error") else "simulate"


def simulate(state: TurnState, ctx: TurnContext) -> TurnState:
    # Every turn starts from the checkpointed snapshot, so a turn is a pure function of
    # (snapshot, plan) whether the process ran the previous turn or was just restarted.
    sync_world(ctx, state["snapshot"], state["snapshot_sha"], force=True)
    world = ctx.world
    before = world.state()
    world.apply(state["plan"].events, step=state["step"])
    frames, seen = [], []
    for _ in world.run_step(state["request"].duration, ctx.scene.render.fps):
        frames.append(world.integration_state())
        seen.append(world.state())
    snap = world.snapshot()
    ctx.world_sha = sha256(snap)
    integration = np.stack(frames)
    t0 = time.perf_counter()
    trajectory = ctx.store.put_array(integration)
    lines = "\n".join(s.model_dump_json(exclude={"schema_version"}) for s in seen) + "\n"
    states = ctx.store.put_text(lines, "jsonl")
    ctx.timings.append(("store", time.perf_counter() - t0))
    ctx.simulated = Simulated(trajectory=trajectory, snapshot_sha=ctx.world_sha, before=before, states=seen,
                              integration=integration, lines=lines)
    return {"next_snapshot": snap, "next_time": round(world.time, 9), "trajectory": trajectory, "states": states}


def _simulated(state: TurnState, ctx: TurnContext) -> Simulated:
    """This turn's simulation from memory, or simulated again (a turn resumed after a crash)."""
    sim = ctx.simulated
    if sim is None or sim.trajectory != state["trajectory"] or ctx.world_sha != sim.snapshot_sha:
        simulate(state, ctx)  # the same (snapshot, plan), so the same trajectory and post-event model
        sim = ctx.simulated
    return sim


def reconcile_words(state: TurnState, ctx: TurnContext) -> TurnState:
    """The narration must not contradict the physics: it is checked against what happened, and the
    video caption is written from the outcome."""
    sim = _simulated(state, ctx)
    done = reconcile(sim.before, sim.states[-1], state["plan"], ctx.scene.camera, sim.states)
    return {"plan": done.plan, "outcome": done.outcome, "disagreement": done.disagreement}


def render(state: TurnState, ctx: TurnContext) -> TurnState:
    world = ctx.world
    sim = _simulated(state, ctx)
    need_maps = ctx.video is not None
    geometry = []
    for s in sim.integration:
        world.set_integration_state(s)
        geometry.append(ctx.geometry.render(world, stereo=ctx.stereo, depth=need_maps, segmentation=need_maps))
    world.set_integration_state(sim.integration[-1], forward=True)
    t0 = time.perf_counter()
    geo_frames = [f.rgb for f in geometry]
    geo_refs = [ctx.store.put_png(rgb) for rgb in geo_frames]
    frames, refs = geo_frames, geo_refs
    if ctx.video is not None:
        anchor = video_anchor(state, ctx, sim)
        segment = ctx.video.render_segment(state["plan"].caption, geometry, step=state["step"], anchor=anchor,
                                           progress=ctx.on_denoise)
        frames = [np.asarray(f) for f in segment.frames]
        refs = [ctx.store.put_png(f) for f in frames]
    manifest = {"fps": ctx.scene.render.fps, "frames": refs, "geometry": geo_refs, "mp4": None}
    if ctx.segment_mp4:
        manifest["mp4"] = _mp4_blob(ctx.store, frames, ctx.scene.render.fps)
    segment_ref = ctx.store.put_json(manifest)
    ctx.timings.append(("store", time.perf_counter() - t0))
    ctx.rendered = Rendered(segment=segment_ref, frames=frames, geometry=geo_frames, stereo=ctx.stereo)
    return {"segment": segment_ref, "frames": len(refs)}


def video_anchor(state: TurnState, ctx: TurnContext, sim: Simulated) -> Anchor | None:
    """What this turn's video segment continues from: the last generated frame of the committed turn
    that ended where this one starts (read from the store, so a rewind, a fork or a restarted process
    anchors as the first play did), with the geometry pass at that instant (rendered again from the
    committed snapshot). None when there is no such turn or a video model did not make its frames:
    the segment then starts on the geometry pass, as a new session's first does."""
    from renderer.video.base import Anchor

    record = state.get("last_turn")
    if record is None:
        return None
    manifest = ctx.store.get_json(record.segment)
    if not is_generated(manifest):
        return None
    frame = ctx.store.get_png(manifest["frames"][-1])
    sync_world(ctx, state["snapshot"], state["snapshot_sha"])  # the world where this turn starts
    geometry = ctx.geometry.render(ctx.world, stereo=ctx.stereo, depth=True, segmentation=True)
    sync_world(ctx, state["next_snapshot"], sim.snapshot_sha)  # back to where it ends
    return Anchor(frame=frame, geometry=geometry)


def is_generated(manifest: dict) -> bool:
    """True when a segment manifest's frames are a video model's (not the geometry pass's)."""
    return manifest["frames"] != manifest["geometry"]


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
    record = TurnRecord(
        step=state["step"], action=request.action or "", pinned=request.pinned,
        duration=request.duration if request.duration is not None else state["frames"] / ctx.scene.render.fps,
        until_rest=request.duration is None,
        plan=state["plan"], plan_record=state.get("plan_record"), problems=list(state.get("problems") or []),
        outcome=state.get("outcome"), disagreement=state.get("disagreement"), snapshot_sha=sha,
        time=state["next_time"], segment=state["segment"], states=state["states"], trajectory=state["trajectory"],
        frames=state["frames"],
    )
    history = [*state.get("history", []), record.narration][-HISTORY_TURNS:]
    return {
        "step": state["step"] + 1, "snapshot": snap, "snapshot_sha": sha, "time": record.time,
        "history": history, "last_turn": record, "next_snapshot": None,
    }


# ---- the graph ------------------------------------------------------------------------------

NODES = (("observe", observe), ("plan", plan), ("validate", validate), ("simulate", simulate),
         ("reconcile", reconcile_words), ("render", render), ("commit", commit))
"""The graph's nodes in the order a turn runs them (``validate`` may go back to ``observe``)."""


def build_graph() -> StateGraph:
    g = StateGraph(TurnState, context_schema=TurnContext)
    for name, fn in NODES:
        g.add_node(name, _timed(name, fn))
    g.set_entry_point("observe")
    g.add_edge("observe", "plan")
    g.add_conditional_edges("plan", _after_plan, ["validate", "simulate"])
    g.add_conditional_edges("validate", _after_validate, ["simulate", "observe"])
    g.add_edge("simulate", "reconcile")
    g.add_edge("reconcile", "render")
    g.add_edge("render", "commit")
    g.add_edge("commit", "observe")
    return g


def _models_in(hint: Any) -> set[type]:
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return {hint}
    return set().union(*(_models_in(arg) for arg in get_args(hint)))


CHECKPOINT_TYPES: tuple[type, ...] = tuple(sorted(
    set().union(*(_models_in(h) for h in get_type_hints(TurnState).values())), key=lambda t: t.__name__))
"""The pydantic models :class:`TurnState` holds (from its annotations); the checkpointer rebuilds
exactly these, and LangGraph's own safe types (anything else comes back as a plain dict)."""


def checkpoint_serde() -> JsonPlusSerializer:
    """LangGraph's msgpack serde, allowed to rebuild :data:`CHECKPOINT_TYPES` only: the one place the
    turn's typed values become bytes (pydantic models travel as ``model_dump()`` and come back through
    the model's constructor, which validates them)."""
    return JsonPlusSerializer(allowed_msgpack_modules=list(CHECKPOINT_TYPES))


def initial_state(world: World) -> TurnState:
    """The state before any turn: the scene's world at t = 0."""
    snap = world.snapshot()
    return {
        "schema_version": GRAPH_SCHEMA_VERSION, "scene": world.scene.name, "step": 0, "snapshot": snap,
        "snapshot_sha": sha256(snap), "time": round(world.time, 9), "history": [],
        "last_turn": None, "error": None,
    }
