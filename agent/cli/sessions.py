"""The session commands of the `callosum` CLI: interact, sessions list|show|export|rewind|fork, replay."""

from __future__ import annotations

from agent.cli import options as opts

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from agent.turns.sessions import (
    SessionBusy,
    SessionDB,
    SessionDBError,
    SessionError,
    SessionLost,
    check_name,
    default_db,
)
from simulator.limits import LIMITS

sessions_app = typer.Typer(no_args_is_help=True, help="Saved sessions: list, show, export, rewind, fork.")
DB_HELP = ("Session database: a SQLite file, or postgresql://USER@HOST:PORT/DBNAME to share sessions between "
           "processes and hosts (default: $CALLOSUM_DB, else $CALLOSUM_HOME/sessions.db or the user data dir).")


def _open_db(db: Optional[str], create: bool) -> SessionDB:
    try:
        return SessionDB(db or default_db(), create=create)
    except SessionDBError as exc:
        opts.fail(str(exc), code=1)


def _guard(fn, *args, **kwargs):
    """Run `fn`; bad input exits 2, a busy, lost, damaged or locked session exits 1, each with its message."""
    try:
        return fn(*args, **kwargs)
    except SessionError as exc:
        opts.fail(str(exc))
    except (SessionDBError, SessionBusy, SessionLost) as exc:
        opts.fail(str(exc), code=1)


def interact(
    scene_path: Optional[Path] = typer.Argument(None, metavar="SCENE", help="Scene YAML to start a new session from."),
    session: Optional[str] = typer.Option(None, "--session", "-s", help="Session name: resumed if it exists."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    planner: Optional[str] = opts.PLANNER,
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
    plan_format: str = opts.PLAN_FORMAT,
    planner_timeout: Optional[float] = opts.PLANNER_TIMEOUT,
    preset: str = typer.Option("fast", help="Geometry render preset for a new session: fast or quality."),
    duration: Optional[float] = typer.Option(None, help="Seconds simulated per turn (default: until everything "
                                             "has come to rest, at most 10 s; :duration in the session changes it)."),
    take_over: bool = typer.Option(False, "--take-over", help="Drive the session even if another process "
                                   "(an interact, a server) drives it now; that driver's unsaved turn is dropped."),
) -> None:
    """Step a world interactively; every turn is checkpointed, so the session survives restarts."""
    from agent.cli.repl import Repl
    from renderer.gl import GLUnavailableError

    if scene_path is None and session is None:
        opts.fail("give a SCENE to start a session, or --session NAME to resume one (see `callosum sessions list`)")
    if preset not in ("fast", "quality"):
        opts.fail(f"--preset must be fast or quality, got {preset!r}")
    if duration is not None and not LIMITS.min_turn_seconds <= duration <= LIMITS.max_turn_seconds:
        opts.fail(f"--duration must lie between {LIMITS.min_turn_seconds:g} and {LIMITS.max_turn_seconds:g} "
                  f"seconds, got {duration}")
    database = _open_db(db, create=True)
    if session is not None:
        _guard(check_name, session, "--session")
    scene = opts.load(scene_path) if scene_path is not None else None
    if session is None or not database.exists(session):
        if scene is None:
            opts.fail(f"--session {session!r} does not exist in {database.path}; give a SCENE to start it")
        session = session or database.unique_name(scene.name)
        _guard(database.create, session, scene, str(scene_path), preset)
    elif scene is not None and _guard(database.info, session).scene.name != scene.name:
        opts.fail(f"--session {session!r} plays scene {database.info(session).scene.name!r}, not {scene.name!r}; "
                  f"drop SCENE to resume it, or pick a new --session name")
    seed = _guard(database.info, session).scene.seed
    turn_planner = opts.make_planner(planner, base_url, model, api_key, seed, structured, plan_format, planner_timeout)
    try:
        import readline  # noqa: F401  (line editing and history in a real terminal)
    except ImportError:
        pass
    out = Console(highlight=False)
    try:
        repl = _guard(Repl, database, session, out, planner=turn_planner, duration=duration, take_over=take_over)
    except GLUnavailableError as exc:
        opts.fail(str(exc), code=1)
    try:
        repl.run()
    except (SessionDBError, SessionBusy, SessionLost) as exc:
        opts.fail(str(exc), code=1)
    finally:
        repl.close()
        database.close()


@sessions_app.command("list")
def list_sessions(db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List saved sessions."""
    database = _open_db(db, create=False)
    table = Table(title=str(database.path))
    for col in ("name", "scene", "step", "t (s)", "forked from"):
        table.add_column(col)
    for name in database.names():
        try:
            info = database.info(name)
            head = database.chain(name)[-1].values
        except (SessionError, SessionDBError):
            table.add_row(name, "?", "damaged", "", "(see `callosum sessions show`)")
            continue
        parent = f"{info.parent} @ {info.parent_step}" if info.parent else ""
        table.add_row(name, info.scene.name, str(head.get("step")), f"{head.get('time', 0):.3f}", parent)
    Console().print(table)


@sessions_app.command()
def show(name: str = typer.Argument(..., help="Session name."),
         db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a session's committed turns."""
    database = _open_db(db, create=False)
    info = _guard(database.info, name)
    turns = _guard(database.turns, name)
    head = _guard(database.chain, name)[-1].values
    if as_json:
        print(json.dumps({"name": name, "scene": info.scene.name, "step": head["step"], "time": head["time"],
                          "snapshot_sha": head["snapshot_sha"], "turns": [t.model_dump(mode="json") for t in turns]},
                         indent=2))
        return
    table = Table(title=f"{name} (scene {info.scene.name}) at step {head['step']}, t = {head['time']:.3f} s")
    for col in ("step", "t (s)", "action", "narration", "events", "snapshot"):
        table.add_column(col)
    for t in turns:
        table.add_row(str(t.step), f"{t.time:.3f}", t.action, t.narration, str(len(t.plan.events)),
                      t.snapshot_sha[:12])
    Console().print(table)


@sessions_app.command()
def export(name: str = typer.Argument(..., help="Session name."),
           out: Optional[Path] = typer.Option(None, "--out", "-o", help="MP4 to write (default out/<session>.mp4)."),
           state_out: Optional[Path] = typer.Option(None, help="State JSONL (default out/<session>.jsonl)."),
           db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Write a session's full MP4 and state JSONL."""
    from agent.turns.replay import export as run_export

    database = _open_db(db, create=False)
    out = out or Path("out") / f"{name}.mp4"
    state_out = state_out or out.with_suffix(".jsonl")
    frames = _guard(run_export, database, name, out=out, state_out=state_out)
    opts.console.print(f"wrote [green]{out}[/] ({frames} frames) and [green]{state_out}[/]")


@sessions_app.command()
def rewind(name: str = typer.Argument(..., help="Session name."),
           step: int = typer.Argument(..., help="Committed step to return to (0 = the scene's start)."),
           db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Return a session's head to an earlier step (later turns stay in the file, off the branch)."""
    database = _open_db(db, create=False)
    values = _guard(database.rewind, name, step)
    opts.console.print(f"{name} is at step {values['step']}, t = {values['time']:.3f} s")


@sessions_app.command()
def fork(name: str = typer.Argument(..., help="Session to branch from."),
         new_name: str = typer.Argument(..., help="Name of the new session."),
         step: Optional[int] = typer.Option(None, help="Step to branch at (default: the head)."),
         db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Branch a new session from a saved one."""
    database = _open_db(db, create=False)
    _guard(database.fork, name, new_name, step)
    opts.console.print(f"forked {new_name} from {name} at step {database.head(new_name).values['step']}")


def replay(
    name: str = typer.Argument(..., metavar="SESSION", help="Session to replay."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    replan_from: Optional[int] = typer.Option(None, help="Instead of replaying: fork at this step and re-plan later actions."),
    into: Optional[str] = typer.Option(None, help="Name of the re-planned fork (with --replan-from)."),
    planner: Optional[str] = opts.PLANNER,
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
    plan_format: str = opts.PLAN_FORMAT,
    planner_timeout: Optional[float] = opts.PLANNER_TIMEOUT,
) -> None:
    """Re-simulate a session from its recorded plans (no model calls) and check it is bit-identical."""
    from agent.turns.replay import replan
    from agent.turns.replay import replay as run_replay

    database = _open_db(db, create=False)
    if replan_from is not None:
        if not into:
            opts.fail("--replan-from needs --into NEW_NAME for the re-planned fork")
        seed = _guard(database.info, name).scene.seed
        turn_planner = opts.make_planner(planner, base_url, model, api_key, seed, structured, plan_format, planner_timeout)
        states = _guard(replan, database, name, into, replan_from, turn_planner,
                        on_turn=lambda t: opts.console.print(f"turn {t.step}: {t.narration}", highlight=False))
        opts.console.print(f"re-planned {len(states)} turns into {into}")
        return

    def on_step(check) -> None:
        mark = "[green]same[/]" if check.ok else "[bold red]DIFFERENT[/]"
        opts.console.print(f"step {check.step}: snapshot {check.replayed_sha[:12]} {mark} "
                          f"({check.frames} frames {'identical' if check.frames_equal else 'differ'})")

    report = _guard(run_replay, database, name, on_step=on_step)
    if report.identical:
        opts.console.print(f"[green]replay of {name} is bit-identical[/] ({len(report.steps)} steps)")
        return
    opts.console.print(f"[bold red]replay of {name} differs from the recording[/]")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(interact)
    app.command()(replay)
    app.add_typer(sessions_app, name="sessions")
