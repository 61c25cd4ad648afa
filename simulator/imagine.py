"""Imagination: roll events forward from a snapshot on a scratch world, never touching a live one.

The cerebellum proposes candidate events (which body, which direction, how hard, where to put it),
imagines each here and keeps the one whose imagined states satisfy its goal (:mod:`simulator.goals`).
One :class:`Imaginer` holds one scratch :class:`~simulator.world.World` per scene: restoring a
snapshot of the same bodies again only resets the integration state, so a rollout costs the
physics steps and the exported states, not a rebuild. Nothing is rendered.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from simulator.divergence import DivergenceError
from simulator.limits import LIMITS
from simulator.scene import Event, Scene
from simulator.state import WorldState
from simulator.world import World

__all__ = ["Imagined", "Imaginer", "imagine"]


class Imagined(BaseModel):
    """What a rollout showed: the states at each frame, from the start state on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    states: list[WorldState]
    """One state per frame at the rollout's fps; the first is the state right after the events applied."""
    seconds: float
    """Simulated time covered (s); shorter than asked when the rollout diverged."""
    diverged: str | None = None
    """Why the rollout blew up (the simulator's divergence message); `states` stops before it."""

    @property
    def final(self) -> WorldState:
        """The last state reached."""
        return self.states[-1]


class Imaginer:
    """Rollouts on one scratch world of `scene` (cheap per call; not thread-safe: one per thread)."""

    def __init__(self, scene: Scene):
        self.scene = scene
        self._world = World(scene)

    def run(self, snapshot: bytes, events: Sequence[Event], seconds: float, fps: int = 12, *,
            until_rest: bool = False) -> Imagined:
        """Restore `snapshot`, apply `events` (all or none: an EventError leaves nothing simulated) and
        integrate for `seconds` (with `until_rest`: at most `seconds`, stopping once every free body
        is at rest, as a turn without a duration plays), exporting a state every 1/`fps` s.

        Raises :class:`~simulator.world.EventError` for events the world refuses and
        :class:`~simulator.world.SnapshotError` for a snapshot of another scene."""
        if not 0 < seconds <= LIMITS.max_turn_seconds:
            raise ValueError(f"seconds: {seconds!r} is outside (0, {LIMITS.max_turn_seconds:g}]; imagine a turn's length")
        if not 1 <= fps <= LIMITS.max_fps:
            raise ValueError(f"fps: {fps!r} is outside [1, {LIMITS.max_fps}]")
        world = self._world
        world.restore(snapshot)
        start = float(world.data.time)
        world.apply(list(events))
        states = [world.state()]
        diverged = None
        try:
            frames = world.run_until_rest(seconds, fps) if until_rest else world.run(seconds, fps)
            for _ in frames:
                states.append(world.state())
        except DivergenceError as exc:
            diverged = str(exc)
        return Imagined(states=states, seconds=round(states[-1].time - start, 9), diverged=diverged)


def imagine(scene: Scene, snapshot: bytes, events: Sequence[Event], seconds: float, fps: int = 12) -> Imagined:
    """One rollout on a fresh scratch world (use an :class:`Imaginer` for many)."""
    return Imaginer(scene).run(snapshot, events, seconds, fps)
