"""What the commands share: the planner options, the console, and the helpers that build parts or fail."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from simulator.loader import SceneError, load_scene

console = Console(stderr=True)
"""Where progress and errors go (stderr, so stdout stays clean for JSON)."""

PLANNERS = ("llamacpp", "openai", "vllm", "scripted")

PLANNER = typer.Option(None, help=f"Planner: {', '.join(PLANNERS)} (default: the embedded model if installed).")
BASE_URL = typer.Option(None, envvar="CALLOSUM_BASE_URL", help="OpenAI-compatible server URL, e.g. http://host:8000/v1.")
MODEL = typer.Option(None, envvar="CALLOSUM_MODEL", help="Model name on that server (or a packaged model / .gguf).")
API_KEY = typer.Option(None, envvar="OPENAI_API_KEY", help="API key for that server.")
STRUCTURED = typer.Option(
    None, envvar="CALLOSUM_STRUCTURED",
    help="Structured output for --planner openai: auto, json_schema (vLLM, OpenAI), json_object (llama.cpp) or vllm.",
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` as an error and exit with `code` (2: bad input, 1: a part is unavailable)."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load(path: Path):
    """The scene at `path`, or exit 2 with the loader's message."""
    try:
        return load_scene(path)
    except SceneError as exc:
        fail(str(exc))


def make_planner(name: Optional[str], base_url, model, api_key, seed: int, structured: Optional[str] = None):
    """Resolve --planner to a turn planner, or None for pinned events only."""
    from agent.planner.backends import default_planner

    if name is None:
        name, hint = default_planner()
        if hint:
            console.print(f"[dim]{hint}[/]")
    if name not in PLANNERS:
        fail(f"--planner {name!r} is not known; choose one of: {', '.join(PLANNERS)}")
    if name == "scripted":
        return None
    from agent.planner.backends import make_backend
    from agent.planner.planner import Planner

    try:
        extra = {"structured": structured} if name == "openai" and structured else {}
        backend = make_backend(name, base_url=base_url, model=model, api_key=api_key, seed=seed, **extra)
    except (ImportError, RuntimeError, ValueError) as exc:
        fail(f"planner {name!r} is unavailable: {exc}", code=1)
    return Planner(backend)


def make_video(path: Optional[Path], steps, size, device, dtype, strength, offload):
    """The video renderer for --video-model, or None without one."""
    if path is None:
        return None
    try:
        from diffusers.utils import logging as diffusers_logging

        from renderer.video import load_video_renderer, parse_size
    except ImportError as exc:
        fail(f"--video-model needs the diffusion extra (pip install 'callosum[diffusion]'): {exc}", code=1)
    diffusers_logging.set_verbosity_error()  # per-call scheduler notices would drown the progress bars
    try:
        return load_video_renderer(path, device=device, dtype=dtype, offload=offload, steps=steps, size=parse_size(size),
                                   strength=strength)
    except (OSError, ValueError, RuntimeError) as exc:
        fail(f"--video-model {str(path)!r}: {exc}")
