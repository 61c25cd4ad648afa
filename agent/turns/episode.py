"""The one turn engine: a compiled turn graph, the thread it runs on, and its context.

Every way of playing turns goes through :class:`Episode`: ``callosum play`` (a scene's steps),
durable sessions (``callosum interact``, the server), replay, and the Gymnasium facade. It owns the
graph's thread config and context; callers hand it typed :class:`~agent.turns.turn.TurnRequest`
objects and get :class:`~agent.turns.turn.TurnRecord` objects back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.planner import TurnPlan
from agent.turns.graph import (
    TurnContext,
    TurnPlanner,
    TurnState,
    build_graph,
    checkpoint_serde,
    initial_state,
    is_generated,
    sync_world,
)
from agent.turns.leases import LEASE_KEY, SessionLost
from agent.turns.store import BlobStore
from agent.turns.turn import TurnRecord, TurnRequest
from simulator.scene import Scene
from simulator.state import WorldState
from simulator.world import DivergenceError, EventError, World, WorldError

COMMITTED = ("observe",)
"""A checkpoint whose next node is ``observe`` holds a committed turn (the graph waits for input)."""


class TurnRejected(ValueError):
    """The request's events cannot apply to the world as it is; nothing was committed."""


class TurnDiverged(TurnRejected):
    """The turn's simulation diverged (non-finite or exploding state); nothing was committed."""

    def __init__(self, error: DivergenceError):
        super().__init__(str(error))
        self.step, self.entity, self.time = error.step, error.entity, error.time


class EngineStalled(RuntimeError):
    """The graph did not come back to wait for input (its head is not a committed turn)."""


class Episode:
    """Plays turns of one scene on one graph thread.

    ``checkpointer`` defaults to an in-memory saver (playback, replay, the gym); sessions pass their
    SQLite saver and the session name as ``thread``. ``geometry`` is a renderer made on the calling
    thread; when None one is made for the scene at ``preset`` (and closed by :meth:`close`).
    """

    def __init__(self, scene: Scene, store: BlobStore, *, checkpointer: BaseCheckpointSaver | None = None,
                 thread: str = "episode", geometry=None, preset: str = "fast", planner: TurnPlanner | None = None,
                 video=None, recorded: dict[int, TurnPlan] | None = None, stereo: bool = False,
                 segment_mp4: bool = True, durability: str = "sync",
                 on_node: Callable[[str, dict], None] | None = None,
                 on_denoise: Callable[[int, int], None] | None = None, lease: str | None = None):
        if durability not in ("sync", "exit"):
            raise ValueError(f"durability must be 'sync' (a checkpoint per node) or 'exit' (one per turn), "
                             f"got {durability!r}")
        self.scene = scene
        self.store = store
        self.durability = durability
        self.graph = build_graph().compile(checkpointer=checkpointer or InMemorySaver(serde=checkpoint_serde()))
        self.config = {"configurable": {"thread_id": thread}}
        if lease is not None:  # every write carries the driver's lease (agent.turns.leases)
            self.config["configurable"][LEASE_KEY] = lease
        self._owns_geometry = geometry is None
        if geometry is None:
            from renderer.geometry import GeometryRenderer

            geometry = GeometryRenderer(scene, preset=preset)
        if video is not None:
            video.start(scene.seed, scene.render.fps)
        self.ctx = TurnContext(scene=scene, world=World(scene), geometry=geometry, store=store, planner=planner,
                               video=video, recorded=recorded, stereo=stereo, segment_mp4=segment_mp4,
                               on_node=on_node, on_denoise=on_denoise)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self, values: TurnState | None = None) -> TurnState:
        """Write the thread's first committed checkpoint: `values`, or the scene's world at t = 0."""
        values = values if values is not None else initial_state(self.ctx.world)
        self.graph.update_state(self.config, values, as_node="commit")
        return values

    def close(self) -> None:
        if self._owns_geometry:
            self.ctx.geometry.close()

    def __enter__(self) -> Episode:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- turns ------------------------------------------------------------------------------

    @property
    def head(self):
        """The thread's latest checkpoint (a LangGraph ``StateSnapshot``)."""
        return self.graph.get_state(self.config)

    @property
    def values(self) -> TurnState:
        """The state of the latest checkpoint."""
        return self.head.values

    def turn(self, request: TurnRequest) -> TurnRecord:
        """Play one turn and commit it, or nothing of it.

        Raises :class:`TurnRejected` when its events cannot apply (:class:`TurnDiverged` when its
        simulation blew up); any failure returns the head to the last committed turn first."""
        start = self.head
        before = start.values.get("step")
        try:
            out = self.graph.invoke(Command(resume=request), self.config, context=self.ctx,
                                    durability=self.durability)
        except SessionLost:
            raise
        except BaseException as exc:
            self._abandon(start)
            if isinstance(exc, DivergenceError):
                raise TurnDiverged(exc) from None
            if isinstance(exc, (EventError, WorldError)):
                raise TurnRejected(f"the events cannot apply: {exc}") from None
            raise
        # The state the run ended with (no checkpoint read back): waiting in observe again, or not.
        if out.get("error"):
            raise TurnRejected(out["error"])
        if out.get("step") == before or "__interrupt__" not in out:
            raise EngineStalled("the turn did not commit; the thread's head is not waiting for input")
        return out["last_turn"]

    def _abandon(self, start) -> None:
        """Drop a failed turn: the live world is stale, and the head goes back to `start` (committed)."""
        self.ctx.forget()
        if self.head.next == COMMITTED and self.head.values.get("step") == start.values.get("step"):
            return
        config = {"configurable": {**self.config["configurable"], **start.config["configurable"]}}
        self.graph.update_state(config, None, as_node="commit")

    def world_state(self) -> WorldState:
        """The world at the head, with the head's step index."""
        values = self.values
        sync_world(self.ctx, values["snapshot"], values["snapshot_sha"])
        return self.ctx.world.state().model_copy(update={"step": values["step"]})

    # ---- what a turn produced: in memory for the latest turn, else from the store ------------

    def frames(self, record: TurnRecord, geometry: bool = False) -> list[np.ndarray]:
        """The turn's frames (the video model's when one ran, unless `geometry`) as RGB arrays: the
        ones the turn just rendered when `record` is this engine's latest turn, else read from the store."""
        rendered = self.ctx.rendered
        if rendered is not None and rendered.segment == record.segment:
            return list(rendered.geometry if geometry else rendered.frames)
        manifest = self.store.get_json(record.segment)
        return [self.store.get_png(ref) for ref in manifest["geometry" if geometry else "frames"]]

    def generated(self, record: TurnRecord) -> bool:
        """True when a video model rendered the turn's frames (they are not the geometry pass's)."""
        rendered = self.ctx.rendered
        if rendered is not None and rendered.segment == record.segment:
            return rendered.frames is not rendered.geometry
        return is_generated(self.store.get_json(record.segment))

    def states_jsonl(self, record: TurnRecord) -> str:
        """The turn's per-frame state lines."""
        simulated = self.ctx.simulated
        if simulated is not None and simulated.trajectory == record.trajectory:
            return simulated.lines
        return self.store.get_text(record.states)

    def trajectory(self, record: TurnRecord) -> np.ndarray:
        """The turn's per-frame integration states, for :meth:`World.set_integration_state`."""
        if record.trajectory is None:
            raise ValueError(f"turn {record.step} was recorded without a trajectory (an older session)")
        simulated = self.ctx.simulated
        if simulated is not None and simulated.trajectory == record.trajectory:
            return simulated.integration
        return self.store.get_array(record.trajectory)
