"""`callosum new "PROMPT"`: a scene YAML built from words."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from agent.cli import options as opts


def report(built, out: Path, console) -> None:
    """Say what was built, assumed, settled and left to the renderer."""
    names = ", ".join(f"{t.count} x {t.noun or t.template}" if t.count > 1 else t.noun or t.template
                      for t in built.intent.things)
    console.print(f"built {escape(names)} on {built.intent.ground} ({built.intent.lighting}) in "
                  f"{built.seconds:.2f} s -> {escape(str(out))}", highlight=False)
    for r in built.intent.relations:
        console.print(f"  {escape(r.subject)} {r.kind.replace('_', ' ')} {escape(r.object or '')}".rstrip(),
                      highlight=False)
    for note in built.assumptions:
        console.print(f"  assumed: {escape(note)}", highlight=False)
    for note in built.settled:
        console.print(f"  settled: {escape(note)}", highlight=False)
    if built.renderer_only:
        console.print(f"  renderer only (not simulated): {escape(', '.join(built.renderer_only))}", highlight=False)
    if built.intent.unknown:
        console.print(f"  not in the catalogue (nothing built): {escape(', '.join(built.intent.unknown))}",
                      highlight=False)
    for eid in built.hidden:
        console.print(f"  [yellow]warning:[/] the {escape(eid)} is not visible from the camera", highlight=False)


def new(
    prompt: str = typer.Argument("", metavar="PROMPT", help='What the world holds, e.g. "three balls on a pool table".'),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Scene YAML to write (default out/<name>.yaml)."),
    seed: int = typer.Option(0, help="The scene's seed."),
    list_templates: bool = typer.Option(False, "--list", help="List the things the catalogue can build and exit."),
    planner: Optional[str] = typer.Option(None, help="Who reads the prompt: the grammar (default) or openai "
                                          "(a model on an OpenAI-compatible server writes the scene intent)."),
    base_url: Optional[str] = opts.BASE_URL,
    model: Optional[str] = opts.MODEL,
    api_key: Optional[str] = opts.API_KEY,
    structured: Optional[str] = opts.STRUCTURED,
) -> None:
    """Build a new world from words: a scene YAML you can edit, `check` and `play`."""
    from agent.worlds import NothingToBuild, new_world
    from simulator.templates import templates

    console = opts.console
    if list_templates:
        for name, t in sorted(templates().items()):
            console.print(f"{name}: {t.noun}" + (f" ({', '.join(t.synonyms)})" if t.synonyms else ""), highlight=False)
        return
    if not prompt.strip():
        opts.fail('give a PROMPT, e.g. callosum new "a red ball on a wooden table"')
    backend = None
    if planner not in (None, "grammar", "llamacpp", "scripted"):
        if planner != "openai":
            opts.fail(f"--planner {planner!r}: `new` reads with the grammar (default) or openai")
        from agent.planner import make_backend

        backend = make_backend("openai", base_url=base_url, model=model, api_key=api_key, seed=seed,
                               structured=structured)
    try:
        built = new_world(prompt, backend=backend, seed=seed)
    except NothingToBuild as exc:
        opts.fail(str(exc))
    out = out or Path("out") / f"{built.scene.name}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(built.yaml_text, encoding="utf-8")
    report(built, out, console)


def register(app: typer.Typer) -> None:
    app.command(name="new")(new)
