"""The left brain: plans a turn from the world state and the user's action."""
