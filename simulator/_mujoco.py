"""Import MuJoCo with a headless GL backend chosen first.

MuJoCo reads ``MUJOCO_GL`` once, at import, so every module imports it from here. EGL is preferred
(Debian: libegl1 libegl-mesa0 libgl1-mesa-dri), then OSMesa (libosmesa6). A user's own setting wins.
"""

import ctypes.util
import os


def _choose_gl() -> str:
    if ctypes.util.find_library("EGL"):
        return "egl"
    if ctypes.util.find_library("OSMesa"):
        return "osmesa"
    return "egl"


if "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = _choose_gl()
if os.environ["MUJOCO_GL"] in ("egl", "osmesa"):
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

import mujoco  # noqa: E402

__all__ = ["mujoco"]
