"""Divergence is an error, not data: a simulation that blows up stops with a message naming the step
and the entity, before any of its non-finite state is read, stored or written."""

from __future__ import annotations

import logging

import numpy as np

from simulator._mujoco import mujoco
from simulator.limits import LIMITS

_log = logging.getLogger("callosum.simulator")

INSTABILITY = {
    mujoco.mjtWarning.mjWARN_BADQACC: "accelerations",
    mujoco.mjtWarning.mjWARN_BADQVEL: "velocities",
    mujoco.mjtWarning.mjWARN_BADQPOS: "positions",
}
"""MuJoCo's instability warnings (it resets the simulation when it raises one) and what they are about."""


def _mujoco_warning(message: str) -> None:
    """MuJoCo's warnings go to the log, not to stdout and MUJOCO_LOG.TXT; divergence is reported as an error."""
    _log.debug("MuJoCo: %s", message.strip())


mujoco.set_mju_user_warning(_mujoco_warning)


class WorldError(ValueError):
    """The world cannot be built or simulated (a MuJoCo compile error, a divergence)."""


class DivergenceError(WorldError):
    """The simulation blew up: non-finite or exploding state, or MuJoCo's instability warning.

    Nothing of the failed step should be kept; ``step``, ``entity`` and ``time`` say where it happened."""

    def __init__(self, message: str, step: int, entity: str | None, time: float):
        super().__init__(message)
        self.step, self.entity, self.time = step, entity, time


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def clear_warnings(data) -> None:
    """Forget earlier instability warnings (each run checks its own)."""
    for w in INSTABILITY:
        data.warning[w].number = 0


def check_divergence(world) -> None:
    """Raise :class:`DivergenceError` if the world's state is non-finite or out of bounds, or MuJoCo
    warned of instability (and reset it) since :func:`clear_warnings`."""
    d = world.data
    for w, what in INSTABILITY.items():
        if d.warning[w].number:
            _diverged(world, _entity_of_dof(world, int(d.warning[w].lastinfo)),
                      f"MuJoCo found non-finite or huge {what} (an unstable simulation)")
    if not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()):
        bad = np.flatnonzero(~np.isfinite(d.qvel))
        _diverged(world, _entity_of_dof(world, int(bad[0])) if bad.size else None, "its state is not finite")
    ext = LIMITS.world_extent
    for eid, (adr, dof) in world.free_joints().items():
        pos = d.qpos[adr : adr + 3]
        if np.abs(pos).max() > ext:
            _diverged(world, eid, f"it left the world at {[round(float(x), 2) for x in pos]} "
                                  f"(each coordinate stays within ±{ext:g} m)")
        speed = float(np.linalg.norm(d.qvel[dof : dof + 3]))
        spin = float(np.linalg.norm(d.qvel[dof + 3 : dof + 6]))
        if speed > LIMITS.max_state_speed or spin > LIMITS.max_state_spin:
            _diverged(world, eid, f"it moves at {speed:.3g} m/s and spins at {spin:.3g} rad/s (the limits are "
                                  f"{LIMITS.max_state_speed:g} m/s and {LIMITS.max_state_spin:g} rad/s)")


def _entity_of_dof(world, dof: int | None) -> str | None:
    for eid, (_, start) in world.free_joints().items():
        if dof is not None and start <= dof < start + 6:
            return eid
    return None


def _diverged(world, eid: str | None, why: str) -> None:
    who = f"entity {eid!r}" if eid else "the world"
    t = world.time
    raise DivergenceError(f"the simulation diverged at step {world.step_index} (t = {t:.3f} s): {who}: {why}. "
                          "Nothing of this step was kept; check the masses, sizes, forces and timestep "
                          "(extreme ratios make MuJoCo unstable)", world.step_index, eid, t)
