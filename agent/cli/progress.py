"""What ``callosum play`` shows while it works: the step being played, its stage and elapsed time.

In a terminal: a spinner line (``⠋ step 2/3 · planning · “Someone flicks …”  4.2 s``) above the frame
bar, and one line per finished step. Without a terminal (a log file, CI): one line as each step
starts planning, and one as it finishes, so a long plan never looks like a hang. :func:`loading`
does the same for loading the planner model (``play``, ``interact``, ``serve``).
"""

from __future__ import annotations

import contextlib
import time

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

STAGES = {"plan": "planning", "validate": "checking the plan", "simulate": "simulating",
          "reconcile": "checking the words", "render": "rendering",
          "commit": "saving"}


class StepElapsed(ProgressColumn):
    """Seconds since the task (re)started, with one decimal."""

    def render(self, task) -> Text:
        return Text(f"{task.elapsed or 0.0:.1f} s", style="progress.elapsed")


class Only(ProgressColumn):
    """Shows `column` for tasks of one kind (the ``kind`` field) and nothing for the others."""

    def __init__(self, kind: str, column: ProgressColumn):
        super().__init__()
        self.kind, self.column = kind, column

    def render(self, task):
        return self.column.render(task) if task.fields.get("kind") == self.kind else Text("")


def _short(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PlayDisplay:
    """Drives a rich Progress from the playback hooks (``agent.turns.playback.Progress``)."""

    def __init__(self, console, scene, total_frames: int | None):
        self.console, self.scene = console, scene
        self.live = console.is_terminal
        self.bars = Progress(Only("step", SpinnerColumn()), TextColumn("{task.description}"),
                             Only("step", StepElapsed()), Only("bar", BarColumn()), Only("bar", MofNCompleteColumn()),
                             Only("bar", TimeElapsedColumn()), console=console, transient=False)
        self.step_task = self.bars.add_task("starting", total=None, kind="step")
        self.frames_task = self.bars.add_task(f"[cyan]{scene.name}[/] frames", total=total_frames, kind="bar")
        self.denoise_task = None
        self.step_index, self.stage, self.t0 = -1, "", time.perf_counter()

    def __enter__(self) -> PlayDisplay:
        self.bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.update(self.step_task, visible=False)
        self.bars.__exit__(*exc)

    def _label(self, i: int) -> str:
        return f"step {i + 1}/{len(self.scene.steps)}"

    def on_node(self, i: int, node: str) -> None:
        if i != self.step_index:  # a new step: its own clock
            self.step_index, self.t0 = i, time.perf_counter()
            self.bars.reset(self.step_task, total=None)
        self.stage = STAGES.get(node, node)
        action = _short(self.scene.steps[i].action or "(a pause)")
        self.bars.update(self.step_task, description=f"{self._label(i)} · {self.stage} · “{escape(action)}”")
        if node == "plan" and not self.live and self._planned(i):
            self.console.print(f"{self._label(i)}: planning “{escape(action)}” …", highlight=False)

    def _planned(self, i: int) -> bool:
        step = self.scene.steps[i]
        return step.events is None and bool((step.action or "").strip())

    def on_frame(self, n: int) -> None:
        self.bars.advance(self.frames_task, n)

    def on_denoise(self, i: int, n: int) -> None:
        if self.denoise_task is None:
            self.denoise_task = self.bars.add_task("[magenta]video segment", total=n, kind="bar")
        self.bars.update(self.denoise_task, completed=i, total=n)

    def on_step(self, i: int, plan) -> None:
        if self.denoise_task is not None:
            self.bars.remove_task(self.denoise_task)
            self.denoise_task = None
        seconds = time.perf_counter() - self.t0
        said = escape(plan.narration) if plan.narration else "[dim](nothing said)[/]"
        self.bars.console.print(f"[bold]{self._label(i)}[/] ({seconds:.1f} s): {said}", highlight=False)

    def hooks(self):
        from agent.turns.playback import Progress as Hooks

        return Hooks(on_node=self.on_node, on_frame=self.on_frame, on_step=self.on_step, on_denoise=self.on_denoise)


class TurnProgress:
    """What ``callosum interact`` shows while a turn runs.

    In a terminal: one transient spinner line, ``⠋ turn 3 · simulating · “kick it”  1.2 s``, gone
    when the turn ends. Without one (a pipe, a log): one line that grows as each stage starts,
    ``· planning · checking the plan · simulating 1 s · rendering · saving``.
    """

    def __init__(self, console):
        self.console = console
        self.live = console.is_terminal
        self.bars: Progress | None = None
        self.task = None
        self.label = ""
        self.open_line = False

    def start(self, number: int, action: str) -> None:
        self.label = f"turn {number} · {{}} · “{escape(_short(action or '(a pause)'))}”"
        if self.live:
            self.bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), StepElapsed(),
                                 console=self.console, transient=True)
            self.bars.__enter__()
            self.task = self.bars.add_task(self.label.format("starting"), total=None)

    def stage(self, node: str, detail: str = "") -> None:
        word = STAGES.get(node, node) + (f" {detail}" if detail else "")
        if self.bars is not None:
            self.bars.update(self.task, description=self.label.format(word))
        elif not self.live:
            self.console.print(f"[dim]· {word}[/] ", end="", highlight=False)
            self.console.file.flush()
            self.open_line = True

    def stop(self) -> None:
        if self.bars is not None:
            self.bars.__exit__(None, None, None)
            self.bars = None
        if self.open_line:
            self.console.print()
            self.open_line = False


@contextlib.contextmanager
def loading(console, what: str):
    """Say what is loading while it loads, with the seconds so far.

    In a terminal: a transient spinner line, ``⠋ loading the planner model (llamacpp) …  1.2 s``.
    Without one: a line as loading starts. Either way, one line when it is done:
    ``planner model ready (llamacpp) in 1.4 s``.
    """
    start = time.perf_counter()
    bars = None
    if console.is_terminal:
        bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), StepElapsed(), console=console,
                        transient=True)
        bars.__enter__()
        bars.add_task(f"loading {escape(what)} …", total=None)
    else:
        console.print(f"[dim]loading {escape(what)} …[/]", highlight=False)
    try:
        yield
    finally:
        if bars is not None:
            bars.__exit__(None, None, None)
    console.print(f"[dim]{escape(what)} ready in {time.perf_counter() - start:.1f} s[/]", highlight=False)
