"""Physics: scene files and a deterministic MuJoCo world. No LLM, no pixels, no network."""

from simulator.loader import SceneError, load_scene, parse_scene
from simulator.scene import Event, Scene
from simulator.state import WorldState
from simulator.limits import LIMITS, Limits, LimitError
from simulator.world import DivergenceError, EventError, SnapshotError, World, WorldError

__all__ = [
    "DivergenceError", "Event", "EventError", "LIMITS", "LimitError", "Limits", "Scene", "SceneError", "SnapshotError",
    "World", "WorldError", "WorldState", "load_scene", "parse_scene",
]
