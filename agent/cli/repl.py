"""The `callosum interact` REPL: type an action, watch the turn run, rewind and fork at will."""

from __future__ import annotations

import shlex

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pydantic import ValidationError

from agent.turns.episode import TurnRejected
from agent.turns.sessions import Session, SessionDB, SessionError
from agent.turns.turn import TurnRecord, TurnRequest
from simulator.limits import LIMITS, parse_json

HELP = """\
Type what happens next, e.g. [bold]someone flicks the ball toward the edge[/].
  :state            the world now (entities, positions, velocities)
  :undo             go back one step
  :rewind N         go back to step N (0 is the scene's start)
  :fork NAME        branch a new session NAME from here and switch to it
  :do JSON          a turn with pinned events: {"action": "...", "events": [...], "duration": 1.0},
                    or just one event object, or a list of events
  :duration S       seconds simulated per turn (now {duration})
  :history          the committed turns on this branch
  :help             this help
  :quit             leave (the session is saved after every turn)"""

_NODE_WORDS = {"plan": "planning", "validate": "checking the plan", "simulate": "simulating",
               "render": "rendering", "commit": "committing"}


class Repl:
    """Reads lines, runs turns and commands, prints what happened."""

    def __init__(self, db: SessionDB, name: str, console: Console, *, planner=None, video=None,
                 duration: float = 1.0, take_over: bool = False):
        self.db, self.console, self.planner, self.video = db, console, planner, video
        self.duration = duration
        self.session: Session | None = None
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

    def _progress(self, node: str, state: dict) -> None:
        word = _NODE_WORDS.get(node, node)
        if node == "simulate":
            word += f" {state['request']['duration']:g} s"
        self.console.print(f"[dim]· {word}[/]", highlight=False)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

    def run(self, read=input) -> None:
        while True:
            step = self.session.state["step"]
            try:
                line = read(f"[{self.session.name} {step}]> ").strip()
            except EOFError:
                self.console.print("bye")
                return
            if not line:
                continue
            try:
                if not self.handle(line):
                    self.console.print("bye")
                    return
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
            self.console.print(HELP.replace("{duration}", f"{self.duration:g} s"), highlight=False)
        elif cmd == "state":
            self._state()
        elif cmd == "undo":
            values = self.session.undo()
            self.console.print(f"undone: now at step {values['step']}, t = {values['time']:.3f} s")
        elif cmd == "rewind":
            self.session.rewind(_int(arg, ":rewind N"))
            values = self.session.state
            self.console.print(f"rewound to step {values['step']}, t = {values['time']:.3f} s")
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
        elif cmd == "duration":
            try:
                value = float(arg)
            except ValueError:
                raise SessionError(f":duration needs seconds, e.g. :duration 2.5; got {arg!r}") from None
            if not LIMITS.min_turn_seconds <= value <= LIMITS.max_turn_seconds:
                raise SessionError(f":duration must lie between {LIMITS.min_turn_seconds:g} and "
                                   f"{LIMITS.max_turn_seconds:g} s; got {value}")
            self.duration = value
            self.console.print(f"turns now simulate {value:g} s")
        elif cmd == "history":
            for t in self.db.turns(self.session.name):
                self.console.print(f"{t.step + 1:>4}  t={t.time:.3f}  {t.action}", highlight=False)
        else:
            raise SessionError(f"unknown command :{cmd}; type :help for the list")
        return True

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
        try:
            record = self.session.turn(request)
        except TurnRejected as exc:
            self.console.print(f"[bold red]rejected:[/] {escape(str(exc))}", highlight=False)
            return
        self._print_turn(record)

    def _print_turn(self, t: TurnRecord) -> None:
        c = self.console
        c.print(f"[bold]turn {t.step + 1}[/] {escape(t.narration) or '(nothing said)'}", highlight=False)
        for ev in t.plan.events:
            c.print(f"  [cyan]event[/] {escape(ev.model_dump_json(exclude_none=True))}", highlight=False)
        if not t.plan.events:
            c.print("  [dim]no events: time passes[/]")
        for p in t.problems:
            c.print(f"  [yellow]note[/] {escape(p)}", highlight=False)
        manifest = self.db.store.get_json(t.segment)
        if manifest.get("mp4"):
            c.print(f"  segment mp4: {self.db.store.path(manifest['mp4'])}", highlight=False, soft_wrap=True)
        c.print(f"  {t.frames} frames, t = {t.time:.3f} s, snapshot {t.snapshot_sha[:12]}", highlight=False)

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


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "request"
    return f"{where}: {err['msg']} (got {err.get('input')!r:.80})"


def _int(text: str, usage: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SessionError(f"{usage} needs a whole step number, e.g. :rewind 2; got {text!r}") from None
