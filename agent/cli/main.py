"""The `callosum` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.cli import options as opts
from agent.cli.help import tidy_help
from simulator.loader import SceneError, load_scene
from simulator.world import WorldError

tidy_help()
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Callosum: an agentic world simulator.")
console = opts.console


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"callosum {version('callosum')}")
        except PackageNotFoundError:
            typer.echo("callosum (not installed as a package; run `pip install -e .`)")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Callosum: an agentic world simulator."""


@app.command()
def play(
    scene_path: Path = typer.Argument(..., metavar="SCENE", help="Scene YAML file."),
    out: Path = typer.Option(None, "--out", "-o", help="MP4 to write (default out/<scene>.mp4)."),
    state_out: Optional[Path] = typer.Option(None, help="Write one JSON line per rendered frame (and each plan)."),
    frames_dir: Optional[Path] = typer.Option(None, help="Also write every frame as a PNG here."),
    depth_out: Optional[Path] = typer.Option(None, metavar="DIR", help="Also write every frame's depth here: "
                                             "16-bit PNG in millimetres (0 = nothing hit)."),
    seg_out: Optional[Path] = typer.Option(None, metavar="DIR", help="Also write every frame's segmentation here: "
                                           "indexed PNG (0 = nothing hit) and legend.json (value -> entity id)."),
    size: Optional[str] = typer.Option(None, metavar="WxH", help="Frame size in pixels, e.g. 640x480 "
                                       "(default: the scene's render size)."),
    camera: Optional[list[str]] = typer.Option(None, metavar="KEY=VALUE", help="Override the scene camera: "
                                               "position=X,Y,Z, look_at=X,Y,Z or fov=DEGREES (repeatable)."),
    seed: Optional[int] = typer.Option(None, help="Seed for physics, planner and video (default: the scene's)."),
    stereo: bool = typer.Option(False, help="Render side-by-side stereo pairs."),
    preset: str = typer.Option("quality", help="Geometry render preset: fast or quality."),
    summary: bool = typer.Option(False, help="Print the final world state."),
    planner: Optional[str] = opts.PLANNER,
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
    plan_format: str = opts.PLAN_FORMAT,
    planner_timeout: Optional[float] = opts.PLANNER_TIMEOUT,
    video_model: Optional[Path] = opts.VIDEO_MODEL,
    video_steps: Optional[int] = opts.VIDEO_STEPS,
    video_size: Optional[str] = opts.VIDEO_SIZE,
    device: str = opts.DEVICE,
    dtype: str = opts.DTYPE,
    strength: Optional[float] = opts.STRENGTH,
    offload: bool = opts.OFFLOAD,
) -> None:
    """Play a scene to an MP4."""
    scene = opts.override_scene(opts.load(scene_path), size=opts.parse_size(size), camera=opts.parse_camera(camera),
                                seed=seed)
    if preset not in ("fast", "quality"):
        opts.fail(f"--preset must be fast or quality, got {preset!r}")
    out = out or Path("out") / f"{scene.name}.mp4"
    needs_planner = any(step.events is None and step.action for step in scene.steps)
    turn_planner = opts.make_planner(planner, base_url, model, api_key, scene.seed, structured, plan_format, planner_timeout) if needs_planner else None
    video = opts.make_video(video_model, video_steps, video_size, device, dtype, strength, offload)
    result = _run_play(scene, scene_path, out=out, state_out=state_out, frames_dir=frames_dir, stereo=stereo,
                       preset=preset, planner=turn_planner, video=video, depth_dir=depth_out, seg_dir=seg_out)
    console.print(f"wrote [green]{out}[/] ({result.frames} frames at {scene.render.fps} fps)")
    if video is not None:
        _print_video_summary(video.summary())
    _print_written(states=state_out, frames=frames_dir, depth_maps=depth_out, segmentation_maps=seg_out)
    if summary:
        _print_state(result.final_state)


def _run_play(scene, scene_path: Path, **kwargs):
    """Play with the progress display; a part that fails ends the command with its message."""
    from agent.cli.progress import PlayDisplay
    from agent.planner import BackendError
    from agent.turns.playback import PlaybackError, total_frames
    from agent.turns.playback import play as run_play
    from renderer.gl import GLUnavailableError

    with PlayDisplay(console, scene, total_frames(scene)) as display:
        try:
            return run_play(scene, progress=display.hooks(), **kwargs)
        except GLUnavailableError as exc:
            opts.fail(str(exc), code=1)
        except (PlaybackError, WorldError) as exc:
            opts.fail(f"{scene_path}: {exc}")
        except BackendError as exc:
            opts.fail(f"planner failed: {exc} (the frames rendered so far are in {kwargs['out']})", code=1)


def _print_written(**paths) -> None:
    """One line per extra output that was asked for."""
    for what, path in paths.items():
        if path:
            console.print(f"wrote {what.replace('_', ' ')} to [green]{escape(str(path))}[/]")


def _print_video_summary(s: dict) -> None:
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)
    console.print(
        f"video: {s['segments']} segments ({s['family']}, seed {s['seed']}); seam PSNR mean "
        f"{fmt(s['seam_psnr_mean'], '.2f')} dB, min {fmt(s['seam_psnr_min'], '.2f')} dB "
        f"(within segments {fmt(s['inner_psnr_mean'], '.2f')} dB); seam SSIM mean {fmt(s['seam_ssim_mean'], '.3f')}; "
        f"{s['seconds']:.1f} s for {s['video_seconds']:.1f} s of video, first segment {fmt(s['first_segment_seconds'], '.1f')} s",
        highlight=False,
    )


def _print_state(state) -> None:
    table = Table(title=f"world at t = {state.time:.3f} s (step {state.step})")
    for col in ("id", "shape", "position (m)", "velocity (m/s)", "color", "fixed"):
        table.add_column(col)
    for eid, e in state.entities.items():
        table.add_row(eid, e.shape, _vec(e.position), _vec(e.velocity), e.color, "yes" if e.fixed else "no")
    Console().print(table)


def _vec(v) -> str:
    return "[" + ", ".join(f"{round(x, 3) + 0.0:+.3f}" for x in v) + "]"  # + 0.0 turns -0.0 into 0.0


@app.command()
def plan(
    scene_path: Path = typer.Argument(..., metavar="SCENE", help="Scene YAML file."),
    action: str = typer.Option(..., "--action", help="The action to plan, in words."),
    planner: Optional[str] = opts.PLANNER,
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
    plan_format: str = opts.PLAN_FORMAT,
    planner_timeout: Optional[float] = opts.PLANNER_TIMEOUT,
    record: bool = typer.Option(False, "--record", help="Also print the planner's record of the call (model, "
                                "attempts, raw output)."),
) -> None:
    """Plan one turn from the scene's initial world and print the plan as JSON."""
    import json

    from agent.planner import BackendError, Planner, make_backend
    from simulator.world import World

    scene = opts.load(scene_path)
    turn_planner = opts.make_planner(planner, base_url, model, api_key, scene.seed, structured, plan_format, planner_timeout) or Planner(make_backend("scripted"))
    try:
        outcome = turn_planner.plan_turn(World(scene).state(), action, [], camera=scene.camera)
    except BackendError as exc:
        opts.fail(str(exc), code=1)
    out = {"plan": outcome.plan.model_dump(mode="json")}
    if record:
        out["record"] = outcome.record.model_dump(mode="json", exclude={"plan"})
    typer.echo(json.dumps(out, indent=2))


@app.command()
def check(scene_paths: list[Path] = typer.Argument(..., metavar="SCENE...", help="Scene YAML files.")) -> None:
    """Validate scene files: load them, compile each world in MuJoCo, and play every step's events and
    physics without rendering, so a scene that passes can be played (actions left to a planner count
    as no events)."""
    bad = 0
    for path in scene_paths:
        try:
            scene = load_scene(path)
            seconds = _dry_run(scene, str(path))
            console.print(f"[green]ok[/] {path}: {len(scene.entities)} entities, {len(scene.steps)} steps, "
                          f"{seconds:g} s simulated")
        except SceneError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            bad += 1
    if bad:
        raise typer.Exit(2)


def _dry_run(scene, source: str) -> float:
    """Play `scene`'s steps as ``play`` does (the same checks on each step's events, the same physics),
    without rendering; raises SceneError naming the step. Returns the seconds simulated."""
    from simulator.world import EventError, World, WorldError

    try:
        world = World(scene)
    except WorldError as exc:
        raise SceneError(f"{source}: {exc}") from None
    for i, step in enumerate(scene.steps):
        events = list(step.events or [])
        problems = world.check(events)
        if problems:
            raise SceneError(f"{source}: steps[{i}]: the events cannot apply: " + "; ".join(p.message for p in problems))
        try:
            world.apply(events, step=i)
            world.advance(step.duration, scene.render.fps)
        except (EventError, WorldError) as exc:
            raise SceneError(f"{source}: steps[{i}]: {exc}") from None
    return round(world.time, 6)


def _register_commands() -> None:
    """The session commands, and commands other packages add through the ``callosum.commands``
    entry-point group (``callosum serve`` comes from ``server``, which the agent never imports)."""
    from importlib.metadata import entry_points

    from agent.cli import llm, sessions, worlds

    sessions.register(app)
    llm.register(app)
    worlds.register(app)
    for ep in entry_points(group="callosum.commands"):
        ep.load()(app)


_register_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
