"""Physics: scene files and a deterministic MuJoCo world. No LLM, no pixels, no network."""

from simulator.loader import SceneError, load_scene, parse_scene
from simulator.scene import Event, Scene
from simulator.state import WorldState
from simulator.world import EventError, SnapshotError, World

__all__ = ["Event", "EventError", "Scene", "SceneError", "SnapshotError", "World", "WorldState", "load_scene", "parse_scene"]
