"""Headless OpenGL for MuJoCo, with an error that says what to install."""

from __future__ import annotations

import os
import warnings

from simulator._mujoco import mujoco

APT_HINT = (
    "install EGL (Debian/Ubuntu: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or OSMesa "
    "(apt-get install libosmesa6), then set MUJOCO_GL=egl or MUJOCO_GL=osmesa before starting Python"
)


class GLUnavailableError(RuntimeError):
    """No headless OpenGL could be started."""


def gl_context(width: int, height: int):
    """A current offscreen GL context of at least width × height."""
    backend = os.environ.get("MUJOCO_GL", "")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # GLFW reports a failed init only as a warning
            ctx = mujoco.GLContext(width, height)
            ctx.make_current()
    except Exception as exc:  # the backends raise assorted types (FatalError, ImportError, OSError, ...)
        raise GLUnavailableError(
            f"cannot start headless OpenGL with MUJOCO_GL={backend!r} ({type(exc).__name__}: {exc}); {APT_HINT}"
        ) from None
    return ctx
