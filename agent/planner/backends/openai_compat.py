"""Any OpenAI-compatible server (vLLM, llama.cpp's server, OpenAI) through the `openai` client.

Structured output has three dialects, picked by ``structured``:

- ``json_schema``: ``response_format={"type": "json_schema", ...}`` (OpenAI, vLLM, llama.cpp's
  llama-server);
- ``json_object``: ``response_format={"type": "json_object", "schema": ...}`` (llama-cpp-python's
  server, which answers HTTP 500 to ``json_schema``);
- ``vllm``: vLLM's own ``structured_outputs`` extra body;
- ``auto`` (default): ``json_schema`` first, switching to ``json_object`` for good when the server
  rejects it.

The model list is checked once: a server that would silently answer with another model (llama.cpp
does) gets a clear :class:`ModelNotFound` instead. Retries live in :class:`RetryingBackend`.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from agent.planner.backends.base import (
    Backend,
    BackendError,
    BackendUnavailable,
    Completion,
    ModelNotFound,
    PlanRequest,
)

StructuredMode = Literal["auto", "json_schema", "json_object", "vllm"]
MODES = ("auto", "json_schema", "json_object", "vllm")


class OpenAICompatBackend(Backend):
    """Plans through ``/v1/chat/completions`` of an OpenAI-compatible server."""

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        seed: int = 0,
        structured: StructuredMode | None = None,
        timeout_s: float = 60.0,
        check_model: bool = True,
    ):
        try:
            import openai
        except ImportError as exc:
            raise BackendError("the openai backend needs the 'openai' package: pip install openai") from exc
        self._openai = openai
        self.base_url = base_url or os.environ.get("CALLOSUM_BASE_URL") or "http://127.0.0.1:8000/v1"
        self.model = model or os.environ.get("CALLOSUM_MODEL") or ""
        self.seed = seed
        mode = structured or os.environ.get("CALLOSUM_STRUCTURED") or "auto"
        if mode not in MODES:
            raise BackendError(f"structured output mode {mode!r} is not one of {', '.join(MODES)}")
        self.structured: str = mode
        self._check_model = check_model
        self._checked = False
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key",
            timeout=timeout_s,
            max_retries=0,
        )

    def _ensure_model(self) -> None:
        if self._checked:
            return
        try:
            served = [m.id for m in self.client.models.list().data]
        except self._openai.APIConnectionError as exc:
            raise BackendUnavailable(self._down(exc)) from None
        except self._openai.APIStatusError:
            served = []  # servers without a model list: trust the name we were given
        if not self.model:
            if not served:
                raise BackendError(f"no model named and {self.base_url} lists none; pass --model NAME "
                                   "or set CALLOSUM_MODEL")
            self.model = served[0]
        elif self._check_model and served and self.model not in served:
            raise ModelNotFound(
                f"model {self.model!r} is not served at {self.base_url}; it serves: {', '.join(served)}. "
                f"Pass --model {served[0]} (or set CALLOSUM_MODEL)"
            )
        self._checked = True

    def _down(self, exc: Exception) -> str:
        return (f"cannot reach the planner server at {self.base_url} ({type(exc).__name__}: {exc}); "
                "start one (e.g. `vllm serve MODEL` or `python -m agent.planner.backends.llamacpp --port 8080`) "
                "or fix --base-url / CALLOSUM_BASE_URL")

    def _format(self, mode: str, schema: dict[str, Any]) -> dict[str, Any]:
        if mode == "json_object":
            return {"response_format": {"type": "json_object", "schema": schema}}
        if mode == "vllm":
            return {"extra_body": {"structured_outputs": {"json": schema}}}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "turn_plan", "schema": schema, "strict": True}}}

    def complete(self, request: PlanRequest) -> Completion:
        """The reply; every failure (transport, HTTP, a body that is not JSON or not a chat completion)
        is a :class:`BackendError`, so the turn falls back to a no-event plan and records why."""
        try:
            return self._complete(request)
        except BackendError:
            raise
        except self._openai.OpenAIError as exc:
            raise BackendError(f"the plan request to {self.base_url} failed ({type(exc).__name__}: {exc})") from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise BackendError(f"{self.base_url} answered with something that is not a chat completion "
                               f"({type(exc).__name__}: {str(exc)[:200]}); check that --base-url is an "
                               "OpenAI-compatible /v1 endpoint") from None

    def _complete(self, request: PlanRequest) -> Completion:
        self._ensure_model()
        mode = "json_schema" if self.structured == "auto" else self.structured
        try:
            try:
                return self._call(request, mode)
            except self._openai.APIStatusError as exc:
                if self.structured != "auto" or exc.status_code not in (400, 422, 500, 501):
                    raise
                reply = self._call(request, "json_object")
                self.structured = "json_object"
                return reply
        except self._openai.APIStatusError as exc:
            raise BackendError(f"{self.base_url} rejected the plan request with HTTP {exc.status_code}: "
                               f"{exc.message}") from None

    def _call(self, request: PlanRequest, mode: str) -> Completion:
        oa = self._openai
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(
                model=self.model,
                messages=request.messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=self.seed_for(request),
                **self._format(mode, request.schema),
            )
        except (oa.APIConnectionError, oa.APITimeoutError) as exc:
            raise BackendUnavailable(self._down(exc)) from None
        except oa.RateLimitError as exc:
            raise BackendUnavailable(f"{self.base_url} is rate limiting ({exc.status_code}): {exc.message}") from None
        except oa.NotFoundError as exc:
            raise ModelNotFound(f"{self.base_url} has no model {self.model!r} ({exc.message}); "
                                "check --model and --base-url") from None
        except oa.AuthenticationError as exc:
            raise BackendError(f"{self.base_url} refused the API key ({exc.message}); "
                               "set OPENAI_API_KEY or pass --api-key") from None
        except oa.APIStatusError as exc:
            if exc.status_code >= 500 and mode == "json_object":
                raise BackendUnavailable(f"{self.base_url} failed with HTTP {exc.status_code}: {exc.message}") from None
            raise
        latency = time.perf_counter() - start
        if not resp.choices:
            raise BackendUnavailable(f"{self.base_url} returned no choices")
        choice = resp.choices[0]
        usage = resp.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            finish_reason=choice.finish_reason,
            latency_s=latency,
            model=resp.model or self.model,
        )

    def close(self) -> None:
        self.client.close()
