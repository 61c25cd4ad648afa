"""Command-line options shared by every command that plans turns."""

from __future__ import annotations

import typer

PLANNERS = ("llamacpp", "openai", "vllm", "scripted")

PLANNER = typer.Option(None, help=f"Planner: {', '.join(PLANNERS)} (default: the embedded model if installed).")
BASE_URL = typer.Option(None, envvar="CALLOSUM_BASE_URL", help="OpenAI-compatible server URL, e.g. http://host:8000/v1.")
MODEL = typer.Option(None, envvar="CALLOSUM_MODEL", help="Model name on that server (or a packaged model / .gguf).")
API_KEY = typer.Option(None, envvar="OPENAI_API_KEY", help="API key for that server.")
STRUCTURED = typer.Option(
    None, envvar="CALLOSUM_STRUCTURED",
    help="Structured output for --planner openai: auto, json_schema (vLLM, OpenAI), json_object (llama.cpp) or vllm.",
)
