"""The `callosum interact` REPL: type an action, watch the turn run, rewind and fork at will.

Each turn prints one short line, ``turn 3: The ball rolls off the table. (2.1 s)``; file paths come
only on request (``:files``). Ctrl-C stops a running turn (nothing of it is kept) and a second
Ctrl-C leaves. ``:next`` plays the scene's next scripted step.
"""

from __future__ import annotations

import shlex
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pydantic import ValidationError

from agent.cli.progress import TurnProgress
from agent.turns.episode import TurnRejected
from agent.turns.sessions import Session, SessionDB, SessionError
from agent.turns.turn import TurnRecord, TurnRequest
from agent.planner import capabilities_text
from simulator.limits import LIMITS, parse_json

HELP = """\
Type what happens next, e.g. [bold]someone flicks the ball toward the edge[/].
  :state            the world now (entities, positions, velocities)
  :undo             go back one step
  :rewind N         go back to step N (0 is the scene's start)
  :fork NAME        branch a new session NAME from here and switch to it
  :new PROMPT       build a new world from words (e.g. :new three balls on a pool table) and switch to it
  :do JSON          a turn with pinned events: {"action": "...", "events": [...], "duration": 1.0},
                    or just one event object, or a list of events
  :next             play the scene's next scripted step ({scripted})
  :steps            the scene's scripted steps, and which are played on this branch
  :files [N]        where turn N's video, frames and states are (default: the last turn)
  :duration S|rest  seconds simulated per turn, or rest: until everything stops moving (now {duration})
  :history          the committed turns on this branch
  :help             this help
  :quit             leave (the session is saved after every turn); Ctrl-D works too
Ctrl-C stops a running turn (nothing of it is kept); Ctrl-C twice leaves."""


def _seconds(duration: float | None) -> str:
    """A turn's time in words: "1.5 s", or "until at rest" when none was given."""
    return "until at rest" if duration is None else f"{duration:g} s"


def _duration(arg: str) -> float | None:
    """:duration's argument: seconds within the limits, or "rest" (None)."""
    if arg.strip().lower() in ("rest", "auto", "until rest"):
        return None
    try:
        value = float(arg)
    except ValueError:
        raise SessionError(f":duration needs seconds or rest, e.g. :duration 2.5 or :duration rest; got {arg!r}") from None
    if not LIMITS.min_turn_seconds <= value <= LIMITS.max_turn_seconds:
        raise SessionError(f":duration must lie between {LIMITS.min_turn_seconds:g} and "
                           f"{LIMITS.max_turn_seconds:g} s, or be rest; got {value}")
    return value


class Repl:
    """Reads lines, runs turns and commands, prints what happened."""

    def __init__(self, db: SessionDB, name: str, console: Console, *, planner=None, video=None,
                 duration: float | None = None, take_over: bool = False):
        self.db, self.console, self.planner, self.video = db, console, planner, video
        self.duration = duration
        self.session: Session | None = None
        self.progress = TurnProgress(console)
        self.armed = False
        """True after a Ctrl-C: the next Ctrl-C at the prompt leaves."""
        self._open(name, take_over)

    def _open(self, name: str, take_over: bool = False) -> None:
        if self.session is not None:
            self.session.close()
        self.session = Session(self.db, name, planner=self.planner, video=self.video, on_node=self._progress,
                               take_over=take_over, driver="callosum interact")
        if self.session.recovered:
            self.console.print(f"[yellow]recovered:[/] {self.session.recovered}")
        s = self.session.state
        self.console.print(f"session [bold]{name}[/] (scene {self.session.scene.name}) at step {s['step']}, "
                           f"t = {s['time']:.3f} s; :help for commands", highlight=False)
        steps = self.session.scene.steps
        if steps:
            done = self._scripted_done()
            more = (f":next plays step {done + 1}/{len(steps)}: “{escape(steps[done].action or '(a pause)')}”"
                    if done < len(steps) else "all are played on this branch")
            self.console.print(f"this scene has {len(steps)} scripted step{'s' if len(steps) > 1 else ''}; {more} "
                               f"(:steps lists them)", highlight=False)

    def _progress(self, node: str, state: dict) -> None:
        self.progress.stage(node, _seconds(state["request"].duration) if node == "simulate" else "")

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

    def run(self, read=input) -> None:
        while True:
            try:
                line = read(f"[{self.session.name} {self.session.state['step']}]> ").strip()
            except EOFError:
                self.console.print("bye")
                return
            except KeyboardInterrupt:
                if self.armed:
                    self.console.print("\nbye")
                    return
                self.armed = True
                self.console.print("\n(Ctrl-C again, Ctrl-D or :quit to leave)")
                continue
            self.armed = False
            if not line:
                continue
            try:
                if not self.handle(line):
                    self.console.print("bye")
                    return
            except KeyboardInterrupt:  # during a command (a turn handles its own)
                self.armed = True
                self.console.print("\n(interrupted; Ctrl-C again, Ctrl-D or :quit to leave)")
            except (SessionError, ValueError) as exc:
                self.console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)

    def handle(self, line: str) -> bool:
        """Run one line; False means quit."""
        if not line.startswith(":"):
            self._turn({"action": line, "duration": self.duration})
            return True
        cmd, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if cmd in ("quit", "q", "exit"):
            return False
        if cmd in ("help", "h", "?"):
            steps = len(self.session.scene.steps)
            scripted = f"{self._scripted_done()} of {steps} played" if steps else "this scene has none"
            self.console.print(HELP.replace("{duration}", _seconds(self.duration)).replace("{scripted}", scripted),
                               highlight=False)
            self.console.print(capabilities_text(), highlight=False)
        elif cmd == "state":
            self._state()
        elif cmd == "undo":
            self._back(None)
        elif cmd == "rewind":
            self._back(_int(arg, ":rewind N"))
        elif cmd == "fork":
            name = shlex.split(arg)[0] if arg else ""
            if not name:
                raise SessionError(":fork needs a NAME, e.g. :fork kitchen-b")
            self.db.fork(self.session.name, name)
            self.console.print(f"forked [bold]{name}[/] from {self.session.name} at step "
                               f"{self.session.state['step']}; now in {name}", highlight=False)
            self._open(name)
        elif cmd == "do":
            self._do(arg)
        elif cmd == "new":
            self._new(arg)
        elif cmd == "duration":
            self.duration = _duration(arg)
            self.console.print(f"turns now simulate {_seconds(self.duration)}")
        elif cmd == "history":
            for t in self.db.turns(self.session.name):
                self.console.print(f"turn {t.end_step}  t = {t.time:.2f} s  “{escape(t.action)}”: "
                                   f"{escape(t.narration)}", highlight=False)
        elif cmd == "next":
            self._next()
        elif cmd == "steps":
            self._steps()
        elif cmd == "files":
            self._files(arg)
        else:
            raise SessionError(f"unknown command :{cmd}; type :help for the list")
        return True

    def _new(self, prompt: str) -> None:
        """Build a world from `prompt`, save its YAML under out/, start a session on it, switch to it."""
        from pathlib import Path

        from agent.cli.worlds import report
        from agent.worlds import NothingToBuild, new_world

        if not prompt:
            raise SessionError(":new needs a PROMPT, e.g. :new a red ball on a wooden table")
        try:
            built = new_world(prompt, seed=self.session.scene.seed)
        except NothingToBuild as exc:
            raise SessionError(str(exc)) from None
        out = Path("out") / f"{built.scene.name}.yaml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(built.yaml_text, encoding="utf-8")
        report(built, out, self.console)
        name = self.db.unique_name(built.scene.name)
        self.db.create(name, built.scene, str(out), self.db.info(self.session.name).preset)
        self._open(name)
        self.console.print(f"now in session [bold]{name}[/] (scene {built.scene.name}); type what happens next",
                           highlight=False)

    def _do(self, arg: str) -> None:
        try:
            request = parse_json(arg)
        except ValueError as exc:
            raise SessionError(f":do needs a JSON object, e.g. :do {{\"action\": \"kick\", \"events\": [...]}}; "
                               f"{exc}") from None
        if isinstance(request, list) or (isinstance(request, dict) and "type" in request):
            request = {"events": request if isinstance(request, list) else [request]}  # bare event(s)
        if not isinstance(request, dict):
            raise SessionError(":do needs a JSON object with action, events and duration, one event, or a list of events")
        unknown = sorted(set(request) - {"action", "events", "duration"})
        if unknown:
            raise SessionError(f":do got unknown key(s) {', '.join(unknown)}; use action, events and duration, "
                               f'e.g. :do {{"action": "kick", "events": [{{"type": "apply_impulse", ...}}]}}')
        self._turn({"duration": self.duration, **request})

    def _turn(self, fields: dict) -> None:
        """Check the request here, at the edge, then play it as a typed :class:`TurnRequest`."""
        try:
            request = TurnRequest.model_validate(fields)
        except ValidationError as exc:
            raise SessionError(f"the turn is not valid: {_first_error(exc)}") from None
        self._play(request)

    def _play(self, request: TurnRequest) -> TurnRecord | None:
        """Run one turn with its progress shown; Ctrl-C stops it and keeps nothing of it."""
        before = self.session.state["step"]
        t0 = time.perf_counter()
        self.progress.start(before + 1, request.action or "")
        try:
            record = self.session.turn(request)
        except TurnRejected as exc:
            self.progress.stop()
            self.console.print(f"[bold red]rejected:[/] {escape(str(exc))}", highlight=False)
            return None
        except KeyboardInterrupt:
            self.progress.stop()
            self._roll_back(before)
            self.armed = True
            self.console.print(f"\nturn {before + 1} stopped: nothing of it was kept, the session is at step "
                               f"{before} (Ctrl-C again to leave)", highlight=False)
            return None
        except BaseException:
            self.progress.stop()
            raise
        self.progress.stop()
        self._print_turn(record, time.perf_counter() - t0)
        return record

    def _roll_back(self, before: int) -> None:
        """After a Ctrl-C: back to the last committed turn, and before this one if it had committed."""
        s = self.session
        s.ctx.world_sha = None  # the live world may be mid-turn: restore it from the head next time
        self.db.recover(s.name, s.lease)
        if s.state["step"] > before:
            s.rewind(before)

    def _print_turn(self, t: TurnRecord, seconds: float) -> None:
        c = self.console
        c.print(f"[bold]turn {t.end_step}:[/] {escape(t.narration) or '(nothing said)'} [dim]({seconds:.1f} s)[/]",
                highlight=False)
        if t.plan.events:
            said = "; ".join(_event_words(ev) for ev in t.plan.events)
            c.print(f"  [cyan]events:[/] {escape(said)}", highlight=False)
        else:
            c.print("  [dim]no events: time passes[/]")
        for p in t.problems:
            c.print(f"  [yellow]note:[/] {escape(p)}", highlight=False)

    def _back(self, step: int | None) -> None:
        """:undo (step None) or :rewind N, saying which turns were taken back."""
        turns = self.db.turns(self.session.name)
        values = self.session.undo() if step is None else self.session.rewind(step)
        dropped = [f"{t.end_step} “{escape(t.action or '(a pause)')}”" for t in turns[values["step"]:]]
        what = "undone" if step is None else "rewound"
        took = f"; took back turn{'s' if len(dropped) > 1 else ''} {', '.join(dropped)}" if dropped else ""
        self.console.print(f"{what}: now at step {values['step']}, t = {values['time']:.3f} s{took}",
                           highlight=False)

    # ---- scripted steps and files ----------------------------------------------------------

    def _scripted_done(self) -> int:
        """How many of the scene's scripted steps the branch has played, in order (a step counts when
        a turn asked the same action for the same time)."""
        steps, done = self.session.scene.steps, 0
        for t in self.db.turns(self.session.name):
            if done < len(steps) and t.action == (steps[done].action or "") and t.request.duration == steps[done].duration:
                done += 1
        return done

    def _next(self) -> None:
        steps = self.session.scene.steps
        done = self._scripted_done()
        if not steps:
            raise SessionError("this scene has no scripted steps; type an action instead")
        if done >= len(steps):
            raise SessionError(f"all {len(steps)} scripted steps are played on this branch; type an action, "
                               f"or :rewind to play them again")
        self.console.print(f"[dim]scripted step {done + 1}/{len(steps)}[/]", highlight=False)
        self._play(TurnRequest.model_validate(steps[done].model_dump()))

    def _steps(self) -> None:
        steps = self.session.scene.steps
        if not steps:
            self.console.print("this scene has no scripted steps")
        done = self._scripted_done()
        for i, step in enumerate(steps):
            mark = "played" if i < done else ("next  " if i == done else "      ")
            how = "pinned events" if step.events is not None else "planned"
            self.console.print(f"  {mark} {i + 1}. “{escape(step.action or '(a pause)')}” ({_seconds(step.duration)}, "
                               f"{how})", highlight=False)

    def _files(self, arg: str) -> None:
        turns = self.db.turns(self.session.name)
        if not turns:
            raise SessionError("no turns yet on this branch, so no files")
        n = _int(arg, ":files N") if arg else len(turns)
        if not 1 <= n <= len(turns):
            raise SessionError(f":files {n}: choose a turn from 1 to {len(turns)}")
        t, store = turns[n - 1], self.db.store
        manifest = store.get_json(t.segment)
        c = self.console
        c.print(f"turn {n}: {t.frames} frames, t = {t.time:.3f} s, snapshot {t.snapshot_sha}", highlight=False)
        if manifest.get("mp4"):
            c.print(f"  video   {store.where(manifest['mp4'])}", highlight=False, soft_wrap=True)
        frames = manifest["frames"]
        c.print(f"  frames  {store.where(frames[0])} … {store.where(frames[-1])} ({len(frames)} PNG)",
                highlight=False, soft_wrap=True)
        c.print(f"  states  {store.where(t.states)}", highlight=False, soft_wrap=True)
        c.print(f"  one MP4 of the whole branch: callosum sessions export {self.session.name}", highlight=False)

    def _state(self) -> None:
        ws = self.session.world_state()
        values = self.session.state
        table = Table(title=f"{self.session.name}: step {values['step']}, t = {ws.time:.3f} s, "
                            f"snapshot {values['snapshot_sha'][:12]}")
        for col in ("id", "shape", "position (m)", "velocity (m/s)", "color", "fixed"):
            table.add_column(col)
        for eid, e in ws.entities.items():
            table.add_row(eid, e.shape, _vec(e.position), _vec(e.velocity), e.color, "yes" if e.fixed else "no")
        self.console.print(table)


def _vec(v) -> str:
    return "[" + ", ".join(f"{x:+.3f}" for x in v) + "]"


def _event_words(ev) -> str:
    """An event in a few words: its type, its entity and its main value."""
    data = ev.model_dump(exclude_none=True)
    kind, entity = data.pop("type"), data.pop("entity")
    if isinstance(entity, dict):  # a spawn carries the whole entity
        return f"{kind} {entity.get('id')} ({entity.get('shape')})"
    values = ", ".join(f"{k} {_num(v)}" for k, v in data.items())
    return f"{kind} {entity}" + (f" {values}" if values else "")


def _num(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_num(x) for x in v) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "request"
    return f"{where}: {err['msg']} (got {err.get('input')!r:.80})"


def _int(text: str, usage: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SessionError(f"{usage} needs a whole step number, e.g. :rewind 2; got {text!r}") from None
