"""Planner backends (minimal; the planner issue adds llamacpp, openai_compat and vllm)."""


def default_planner() -> tuple[str, str | None]:
    return "scripted", None
