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
does) gets a clear :class:`ModelNotFound` instead. Retries live in :class:`RetryingBackend`; several
servers (``--base-url A,B``) in :class:`~agent.planner.backends.replicas.ReplicaSet`.

A request that runs past the timeout (``timeout_s``, else ``CALLOSUM_PLANNER_TIMEOUT_S``, else
60 s) is told apart: :class:`BackendSlow` when the server still answers ``/v1/models`` (it is up
but slow), :class:`BackendUnavailable` ("cannot reach") when it does not. A server whose request was
abandoned keeps generating it (llama.cpp does), so this backend sends it nothing more for one more
timeout, at least ``BUSY_FLOOR_S`` (``busy_until``), and says so rather than queueing behind it.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from agent.planner.backends.base import (
    Backend,
    BackendError,
    BackendSlow,
    BackendUnavailable,
    Completion,
    ModelNotFound,
    PlanRequest,
)

StructuredMode = Literal["auto", "json_schema", "json_object", "vllm"]
MODES = ("auto", "json_schema", "json_object", "vllm")
DEFAULT_TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 3.0
"""How long a health probe (``GET /v1/models``) may take."""
BUSY_FLOOR_S = 2.0
"""Least time (s) a server whose request was abandoned is left alone: a 0.2 s timeout does not mean the
abandoned generation ends 0.2 s later (and the next turn would queue behind it)."""


def request_timeout(value: float | None = None) -> float:
    """The plan request timeout: `value`, else ``CALLOSUM_PLANNER_TIMEOUT_S``, else 60 s."""
    raw = value if value is not None else os.environ.get("CALLOSUM_PLANNER_TIMEOUT_S", DEFAULT_TIMEOUT_S)
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0.1 <= seconds <= 86400:
        raise BackendError(f"planner timeout {raw!r} is not valid: give seconds between 0.1 and 86400 "
                           f"(--planner-timeout or CALLOSUM_PLANNER_TIMEOUT_S; default {DEFAULT_TIMEOUT_S:g})")
    return seconds


def base_urls(value: str | None) -> list[str]:
    """The servers a --base-url value names: one URL, or several separated by commas (replicas)."""
    raw = value or os.environ.get("CALLOSUM_BASE_URL") or "http://127.0.0.1:8000/v1"
    urls = [u.strip().rstrip("/") for u in raw.split(",") if u.strip()]
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if not urls or bad:
        raise BackendError(f"--base-url {raw!r} is not valid: give http(s)://HOST:PORT/v1, or several separated "
                           f"by commas for replicas (e.g. http://a:8000/v1,http://b:8000/v1)")
    return urls


def _read_timeout(exc: BaseException) -> bool:
    """True when a timeout came after the connection was made (the server took the request). By the
    name of a cause in the chain: the openai client wraps httpx or httpx2, whichever it ships with."""
    seen = exc.__cause__ or exc.__context__
    for _ in range(8):
        if seen is None:
            return False
        if type(seen).__name__ in ("ReadTimeout", "WriteTimeout"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
        timeout_s: float | None = None,
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
        self.timeout_s = request_timeout(timeout_s)
        self.busy_until = 0.0
        """While ``time.monotonic()`` is below this, an abandoned request may still run on the server."""
        mode = structured or os.environ.get("CALLOSUM_STRUCTURED") or "auto"
        if mode not in MODES:
            raise BackendError(f"structured output mode {mode!r} is not one of {', '.join(MODES)}")
        self.structured: str = mode
        self._check_model = check_model
        self._checked = False
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key",
            timeout=self.timeout_s,
            max_retries=0,
        )

    def probe(self) -> str:
        """``GET /v1/models`` within :data:`PROBE_TIMEOUT_S`: "up" (it answered), "busy" (it took the
        connection but did not answer in time: llama.cpp's Python server answers nothing while it
        generates) or "down" (no connection)."""
        try:
            self.client.with_options(timeout=min(PROBE_TIMEOUT_S, self.timeout_s)).models.list()
            return "up"
        except self._openai.APIStatusError:
            return "up"  # it answered (a server without a model list)
        except self._openai.APITimeoutError as exc:
            return "busy" if _read_timeout(exc) else "down"
        except self._openai.OpenAIError:
            return "down"

    def _timed_out(self, exc: Exception) -> BackendUnavailable:
        """A request ran past the timeout: slow when the server took it and is still there (it answers
        /v1/models, or holds the connection), else unreachable."""
        state = self.probe() if _read_timeout(exc) else "down"
        if state == "down":
            return BackendUnavailable(self._down(exc))
        self.busy_until = time.monotonic() + max(self.timeout_s, BUSY_FLOOR_S)
        how = "it answers /v1/models" if state == "up" else "it took the request and keeps the connection open"
        return BackendSlow(f"the planner server at {self.base_url} is up ({how}) but did not finish the plan within "
                           f"{self.timeout_s:g} s: it is slow for this model. Raise --planner-timeout "
                           "(CALLOSUM_PLANNER_TIMEOUT_S), serve a smaller model, or add replicas (--base-url A,B)")

    def _ensure_model(self) -> None:
        if self._checked:
            return
        try:
            served = [m.id for m in self.client.models.list().data]
        except self._openai.APITimeoutError as exc:
            raise self._timed_out(exc) from None
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
        wait = self.busy_until - time.monotonic()
        if wait > 0:
            raise BackendSlow(f"the planner server at {self.base_url} may still be generating a request abandoned "
                              f"after {self.timeout_s:g} s; not sending another for {wait:.0f} s (it would queue "
                              "behind it). Raise --planner-timeout (CALLOSUM_PLANNER_TIMEOUT_S) or add replicas")
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
        except oa.APITimeoutError as exc:
            raise self._timed_out(exc) from None
        except oa.APIConnectionError as exc:
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
