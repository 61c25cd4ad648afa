"""Faithful words: a turn's narration checked against what the physics did, and its caption written
from the outcome (:mod:`agent.planner.narration.outcome` says what happened, :mod:`agent.planner.narration.claims` what the
narration claims)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.planner.narration.claims import contradictions
from agent.planner.narration.outcome import caption_from_outcome, compute_outcome
from agent.planner.formats.plan import NARRATION_MAX, TurnPlan
from simulator.scene import CameraSpec
from simulator.state import WorldState


@dataclass
class Reconciled:
    """A plan made faithful to what happened."""

    plan: TurnPlan
    """The plan with a narration that does not contradict the outcome and a caption written from it."""
    outcome: dict[str, Any]
    """The :class:`Outcome` as JSON-ready data."""
    disagreement: dict[str, Any] | None
    """None when the narration was kept; else {'narration', 'reasons', 'replaced_by'}."""


def reconcile(before: WorldState, after: WorldState, plan: TurnPlan, camera: CameraSpec | None,
              frames: Sequence[WorldState] = ()) -> Reconciled:
    """The plan with a narration that agrees with what happened and a caption written from it.

    `frames` (optional) are states during the turn; with them, motion that ends where it started
    (a toss, a bounce) counts as motion."""
    out = compute_outcome(before, after, camera, frames)
    reasons = contradictions(plan.narration, before, after, out, camera)
    disagreement = None
    narration = plan.narration
    if reasons or not narration.strip():
        narration = out.sentence[:NARRATION_MAX]
        disagreement = {"narration": plan.narration, "reasons": reasons or ["the narration is empty"],
                        "replaced_by": narration}
    caption = caption_from_outcome(after, out)
    fixed = plan.model_copy(update={"narration": narration, "caption": caption})
    return Reconciled(plan=fixed, outcome=out.model_dump(mode="json"), disagreement=disagreement)
