"""Running a served session's turns on its render thread: progress per stage, Stop, playback.

:class:`TurnRunner` is the turn half of :class:`server.live.ServedSession` (which it is mixed
into): a turn reports each graph node as it starts (``progress``), can be cancelled at the next
node, while the planner thinks, or during playback, and always ends at a committed step.
"""

from __future__ import annotations

import logging
import time

from agent.turns.episode import TurnRejected
from agent.turns.sessions import SessionLost
from agent.turns.turn import TurnRecord
from server.jobs import SessionClosing, TurnCancelled, TurnError, TurnJob
from server.protocol import NarrationMsg, PlanMsg, ProgressMsg, TurnSummary

log = logging.getLogger("callosum.server")


class TurnRunner:
    """The turn methods of a served session; they run on its render thread."""

    def _progress(self, step: int, stage: str, action: str, elapsed: float | None = None, queued: int = 0) -> None:
        if elapsed is None:
            elapsed = time.perf_counter() - self._turn_t0
        msg = ProgressMsg(step=step, stage=stage, elapsed=round(elapsed, 3), action=action, queued=queued)
        self._post(self.broadcaster.message, msg.model_dump_json())

    def _on_node(self, name: str, state: dict) -> None:
        """The turn graph starts a node: stop here if cancelled, else tell the clients."""
        if self.cancelling.is_set():
            raise TurnCancelled(f"the turn was cancelled before {name}")
        self._progress(state.get("step", self.step) + 1, name, self._turn_action, queued=len(self._jobs))

    def _turn(self, job: TurnJob) -> None:
        request = job.request
        action = request.action or ""
        self._turn_t0, self._turn_action = time.perf_counter(), action
        self._publish_state()
        try:
            turn = self.session.turn(request)
        except SessionClosing:
            return
        except TurnCancelled:
            self.db.recover(self.id, self.session.lease)  # back to the last committed step: nothing stays
            self._progress(self.step + 1, "cancelled", action)
            self._end_turn()
            return
        except TurnRejected as exc:
            entities = ", ".join(sorted(self.session.ctx.world.entities))
            self._error(job.origin, TurnError("bad_events", f"action.{exc}. Entities here: {entities}", "events"))
            self._progress(self.step + 1, "failed", action)
            self._end_turn()
            return
        except SessionLost as exc:  # another driver took the session over: nothing of this turn is saved
            self._lost(str(exc))
            self._progress(self.step + 1, "failed", action)
            self._end_turn()
            return
        except Exception as exc:  # a planner failure must not end the session
            log.exception("turn failed in session %s", self.id)
            self.db.recover(self.id, self.session.lease)  # back to the last commit, so the next turn can run
            self._error(job.origin, TurnError("server_error", f"the turn failed ({type(exc).__name__}); "
                                              "the world is unchanged, try the action again"))
            self._progress(self.step + 1, "failed", action)
            self._end_turn()
            return
        self._committed(turn)

    def _committed(self, turn: TurnRecord) -> None:
        """Tell the clients, play the turn back, and roll it back if Stop came during playback."""
        before, self.step = self.step, turn.end_step
        self.history.append(TurnSummary(step=self.step, action=turn.action, narration=turn.narration))
        self._post(self.broadcaster.message, NarrationMsg(step=self.step, text=turn.narration,
                                                          action=turn.action).model_dump_json())
        self._post(self.broadcaster.message, PlanMsg(step=self.step, plan=turn.plan.model_dump(mode="json"))
                   .model_dump_json())
        if turn.trajectory is not None:
            self._progress(self.step, "play", turn.action)
            self._play(turn)
        if self.cancelling.is_set():
            self.session.rewind(before)
            self.history = [t for t in self.history if t.step <= before]
            self._progress(self.step, "cancelled", turn.action)
        else:
            self._progress(self.step, "done", turn.action)
        self._end_turn()

    def _end_turn(self) -> None:
        with self._cv:
            self.busy = False
            self.cancelling.clear()
        self._sync()
        self._publish_state()
        self._pose_dirty = True

    def _generated(self, turn: TurnRecord) -> list:
        """The video model's frames of a turn ([] when none ran): played instead of re-renders."""
        return self.session.episode.frames(turn) if self.session.ctx.video is not None else []

    def _play(self, turn: TurnRecord) -> None:
        """Stream the committed turn at real time. Each frame is the one the turn rendered (kept in
        memory, no store read) while the viewer looks through the scene camera in colour; it is
        rendered again, from the latest head pose, only when the pose or the view differ."""
        world = self.session.ctx.world
        episode = self.session.episode
        trajectory = episode.trajectory(turn)
        rendered = episode.frames(turn, geometry=True) if self.session.ctx.geometry is self.renderer else None
        fps = self.scene.render.fps
        generated = self._generated(turn)
        t0 = time.perf_counter()
        for k, s in enumerate(trajectory):
            world.set_integration_state(s)
            self.time = world.time
            self._render(turn=True, generated=generated[k] if k < len(generated) else None,
                         rendered=rendered[k] if rendered else None)
            if self.pace:
                delay = t0 + (k + 1) / fps - time.perf_counter()
                if delay > 0:
                    with self._cv:
                        if not (self._stop or self.cancelling.is_set()):
                            self._cv.wait(delay)
            if self._stop or self.cancelling.is_set():
                break
        world.set_integration_state(trajectory[-1], forward=True)
