"""Worlds from words: a prompt read into a typed scene intent (by the grammar and the template
catalogue, or by a language model under a JSON Schema), laid out, settled and framed into an
ordinary scene YAML (``callosum new``)."""

from agent.worlds.build import Built, NothingToBuild, build
from agent.worlds.intent import SceneIntent
from agent.worlds.reader import read_prompt


def new_world(prompt: str, *, backend=None, seed: int = 0) -> Built:
    """Build a world from `prompt`: read by `backend` (a planner backend) when given, else by the grammar."""
    if backend is not None:
        from agent.worlds.model_reader import read_with_model

        intent = read_with_model(prompt, backend)
    else:
        intent = read_prompt(prompt)
    return build(intent, seed=seed)


__all__ = ["Built", "NothingToBuild", "SceneIntent", "build", "new_world", "read_prompt"]
