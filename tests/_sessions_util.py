"""Shared helpers for the session tests."""

from pathlib import Path

from simulator.loader import load_scene

ROOT = Path(__file__).resolve().parent.parent
SCENE_PATH = ROOT / "scenes" / "ball-off-table.yaml"
KICK = [{"type": "apply_impulse", "entity": "ball", "impulse": [0.3, 0.0, 0.0]}]


def scene():
    return load_scene(SCENE_PATH)


def req(action: str = "", events=None, duration: float = 1.0):
    """A checked turn request, as the CLI, the REPL and the server make them."""
    from agent.turns.turn import TurnRequest

    return TurnRequest(action=action or None, events=events, duration=duration)
