"""What the commands share: the planner options, the console, and the helpers that build parts or fail."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from simulator.loader import SceneError, load_scene

console = Console(stderr=True)
"""Where progress and errors go (stderr, so stdout stays clean for JSON)."""

PLANNERS = ("llamacpp", "openai", "vllm", "scripted")
IN_PROCESS = ("llamacpp", "vllm")
"""Planners that load a model into this process (the others connect to a server, or have none)."""

PLANNER = typer.Option(None, help=f"Planner: {', '.join(PLANNERS)} (default: the embedded model if installed).")
BASE_URL = typer.Option(None, envvar="CALLOSUM_BASE_URL", help="OpenAI-compatible server URL, e.g. http://host:8001/v1; "
                        "several separated by commas are replicas (failover, health checks, same seed).")
PLANNER_TIMEOUT = typer.Option(None, "--planner-timeout", envvar="CALLOSUM_PLANNER_TIMEOUT_S",
                               help="Seconds a plan request to an OpenAI-compatible server may take (default 60).")
MODEL = typer.Option(None, envvar="CALLOSUM_MODEL", help="Model name on that server (or a packaged model / .gguf).")
API_KEY = typer.Option(None, envvar="OPENAI_API_KEY", help="API key for that server.")
PLAN_FORMATS = ("intents", "events")
PLAN_FORMAT = typer.Option(
    "intents", "--plan-format", envvar="CALLOSUM_PLAN_FORMAT",
    help="What the model writes: intents (a typed intent the physics compiler turns into events; default) "
         "or events (raw simulator events).",
)
STRUCTURED = typer.Option(
    None, envvar="CALLOSUM_STRUCTURED",
    help="Structured output for --planner openai: auto, json_schema (vLLM, OpenAI), json_object (llama.cpp) or vllm.",
)
VIDEO_MODEL = typer.Option(None, help="Local diffusers video model folder, or ray://HOST:PORT for video workers "
                           "on Ray Serve (docs/deploy.md).")
VIDEO_STEPS = typer.Option(None, help="Denoising steps per segment.")
VIDEO_SIZE = typer.Option(None, metavar="WxH", help="Video model output size, e.g. 768x512.")
DEVICE = typer.Option("cpu", help="Torch device for the video model: cpu or cuda.")
DTYPE = typer.Option("fp32", help="Video model dtype: fp32 or bf16.")
STRENGTH = typer.Option(None, help="How far the video may depart from the geometry pass (0-1).")
OFFLOAD = typer.Option(False, help="CPU-offload video model components between uses.")
"""The video options (``callosum play`` and ``callosum serve``); :func:`make_video` reads them."""


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


def make_planner(name: Optional[str], base_url, model, api_key, seed: int, structured: Optional[str] = None,
                 plan_format: str = "intents", timeout_s: Optional[float] = None):
    """Resolve --planner to a turn planner, or None for pinned events only."""
    from agent.planner import default_planner

    if plan_format not in PLAN_FORMATS:
        fail(f"--plan-format {plan_format!r} is not known; choose one of: {', '.join(PLAN_FORMATS)}")

    if name is None:
        name, hint = default_planner()
        if hint:
            console.print(f"[dim]{hint}[/]")
    if name not in PLANNERS:
        fail(f"--planner {name!r} is not known; choose one of: {', '.join(PLANNERS)}")
    if name == "scripted":
        return None
    from agent.cli.progress import loading
    from agent.planner import Planner, make_backend

    # An in-process model loads here (and the planner warms its scoring prefix): say so, with the time.
    say = loading(console, f"the planner model ({name})") if name in IN_PROCESS else contextlib.nullcontext()
    try:
        with say:
            extra = {"structured": structured} if name == "openai" and structured else {}
            if name == "openai" and timeout_s is not None:
                extra["timeout_s"] = timeout_s
            backend = make_backend(name, base_url=base_url, model=model, api_key=api_key, seed=seed, **extra)
            return Planner(backend, plan_format=plan_format)
    except (ImportError, RuntimeError, ValueError) as exc:
        fail(f"planner {name!r} is unavailable: {exc}", code=1)


def make_video(path: Optional[Path], steps, size, device, dtype, strength, offload):
    """The video renderer for --video-model, or None without one. ``ray://HOST:PORT`` (Ray Client) or
    ``ray:HOST:PORT`` / ``ray:auto`` (a node of the cluster) sends each segment's pipeline call to the
    video workers deployed on Ray Serve (renderer/video/ray_serve.py)."""
    if path is None:
        return None
    size = parse_size(size, "--video-size")
    if str(path).startswith("ray:"):
        return _ray_video(str(path), steps, size, strength)
    try:
        from diffusers.utils import logging as diffusers_logging

        from renderer.video import load_video_renderer
    except ImportError as exc:
        fail(f"--video-model needs the diffusion extra (pip install 'callosum[diffusion]'): {exc}", code=1)
    diffusers_logging.set_verbosity_error()  # per-call scheduler notices would drown the progress bars
    try:
        return load_video_renderer(path, device=device, dtype=dtype, offload=offload, steps=steps, size=size,
                                   strength=strength)
    except (OSError, ValueError, RuntimeError) as exc:
        fail(f"--video-model {str(path)!r}: {exc}")


def _ray_video(text: str, steps, size, strength):
    # a Path option folds "ray://h:p" into "ray:/h:p": both mean the Ray Client address
    address = "ray://" + text[len("ray:/"):].lstrip("/") if text.startswith("ray:/") else text[len("ray:"):]
    try:
        from renderer.video.ray_serve import RayVideoRenderer, VideoWorkerError
    except ImportError as exc:
        fail(f"--video-model {text!r} needs the ray and diffusion extras (pip install 'callosum[ray,diffusion]'): "
             f"{exc}", code=1)
    try:
        return RayVideoRenderer(address, steps=steps, size=size, strength=strength)
    except VideoWorkerError as exc:
        fail(str(exc), code=1)
    except ValueError as exc:
        fail(f"--video-model {text!r}: {exc}")


def parse_size(text: Optional[str], option: str = "--size") -> Optional[tuple[int, int]]:
    """'960x720' -> (960, 720); None stays None; anything else exits 2 naming the option and the fix."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        fail(f"{option} {text!r} is not a size; write WIDTHxHEIGHT in pixels, e.g. 960x720")
    w, h = (int(p) for p in parts)
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        fail(f"{option} {text!r} is out of range; width and height must lie between 16 and 4096 pixels")
    return w, h


CAMERA_KEYS = ("position", "look_at", "fov")


def parse_camera(items: Optional[list[str]]) -> dict:
    """``--camera position=2,-2,1.5 --camera fov=50`` -> {"position": [2, -2, 1.5], "fov": 50.0}."""
    out: dict = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in CAMERA_KEYS:
            fail(f"--camera {item!r}: write KEY=VALUE with KEY one of {', '.join(CAMERA_KEYS)}, "
                 f"e.g. --camera position=2,-2,1.5 --camera look_at=0,0,0.5 --camera fov=50")
        try:
            numbers = [float(v) for v in value.split(",")]
        except ValueError:
            fail(f"--camera {item!r}: {key} must be numbers separated by commas")
        want = 1 if key == "fov" else 3
        if len(numbers) != want:
            fail(f"--camera {item!r}: {key} takes {want} number{'s' if want > 1 else ''}, got {len(numbers)}")
        out[key] = numbers[0] if key == "fov" else numbers
    return out


def override_scene(scene, *, size=None, camera: Optional[dict] = None, seed: Optional[int] = None):
    """The scene with the command line's --size, --camera and --seed applied, validated again like a
    scene file (so a bad value gets the loader's message naming the field)."""
    from pydantic import ValidationError

    from simulator.scene import Scene

    if size is None and not camera and seed is None:
        return scene
    data = scene.model_dump(mode="json")
    if size is not None:
        data["render"] = {**data["render"], "width": size[0], "height": size[1]}
    if camera:
        data["camera"] = {**data["camera"], **camera}
    if seed is not None:
        data["seed"] = seed
    try:
        return Scene.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        option = {"render": "--size", "camera": "--camera", "seed": "--seed"}.get(str(err["loc"][0]), "scene")
        fail(f"{option}: {where}: {err['msg']} (got {err.get('input')!r})")
