"""The primitive shapes a body is made of, and the base of every file-facing model.

Shared by whole entities (:mod:`simulator.scene`) and the parts of composite ones
(:mod:`simulator.parts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.limits import LIMITS, LimitError

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

Shape = Literal["box", "sphere", "cylinder", "capsule"]
SIZE_ARITY = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2}
SIZE_MEANING = {
    "box": "[x, y, z] full extents in metres",
    "sphere": "[radius] in metres",
    "cylinder": "[radius, length] in metres",
    "capsule": "[radius, length of the straight part] in metres",
}

Vec3 = Annotated[tuple[float, float, float], Field(description="[x, y, z]")]
Friction = Annotated[float, Field(ge=0, le=LIMITS.max_friction, allow_inf_nan=False)]


class Strict(BaseModel):
    """Base for every file-facing model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_color(value: str) -> str:
    if not HEX_COLOR.match(value):
        raise LimitError(f"colour must be '#rrggbb' hex, e.g. '#ff0000', got {value!r}", "bad_color")
    return value.lower()


def size_problem(shape: str, size: Sequence[float]) -> str | None:
    """Why `size` does not fit a primitive of `shape`, or None."""
    want = SIZE_ARITY[shape]
    if len(size) != want:
        return f"size for a {shape} needs {want} number(s), {SIZE_MEANING[shape]}; got {list(size)}"
    if not all(math.isfinite(s) and LIMITS.min_size <= s <= LIMITS.max_size for s in size):
        return (f"size values must lie between {LIMITS.min_size:g} and {LIMITS.max_size:g} metres, "
                f"got {list(size)}")
    return None
