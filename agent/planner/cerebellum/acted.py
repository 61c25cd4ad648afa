"""What one step does (:class:`Acted`), and the plain path: the compiler run once per target."""

from __future__ import annotations

from dataclasses import dataclass

from agent.planner.cerebellum.compiler import Compiled, compile_intent
from agent.planner.narration.narrate import intent_narration
from agent.planner.words.program import Reading, Step
from simulator.scene import CameraSpec, Event, SetPropertyEvent
from simulator.state import WorldState

_PLURAL = {" is ": " are ", " turns ": " turn ", " disappears": " disappear", " becomes ": " become ",
           " stops": " stop"}


@dataclass
class Acted:
    """What one step does."""

    events: list[Event]
    sentence: str
    step: Step
    notes: list[str]


def compile_each(state: WorldState, camera: CameraSpec | None, r: Reading) -> Acted:
    intent = r.intent
    targets = r.targets or [intent.target]
    events: list[Event] = []
    notes: list[str] = []
    compiled_first: Compiled | None = None
    for t in targets:
        c = compile_intent(state, camera, intent.model_copy(update={"target": t}) if t else intent)
        if r.colour_hex:
            c.events = [e.model_copy(update={"color": r.colour_hex}) if isinstance(e, SetPropertyEvent) and e.color
                        else e for e in c.events]
        events += c.events
        notes += c.notes
        compiled_first = compiled_first or c
    first = intent.model_copy(update={"target": targets[0]}) if targets and targets[0] else intent
    sentence = intent_narration(first, compiled_first or Compiled([]), state)
    if len(targets) > 1 and events:
        sentence = group_sentence(sentence, targets)
    step = Step(text=r.text, verb=intent.verb, targets=[t for t in targets if t],
                verdict="ok" if events or intent.verb == "nothing" else (compiled_first.problem if compiled_first
                                                                           else None) or "nothing to do")
    return Acted(events, sentence, step, notes)


def group_sentence(sentence: str, targets: list[str]) -> str:
    """'The apple is pushed ...' -> 'The apple, the pear and the lemon are pushed ...'."""
    names = [f"the {t.replace('-', ' ')}" for t in targets]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    head = f"The {targets[0].replace('-', ' ')}"
    if not sentence.startswith(head):
        return sentence
    rest = sentence[len(head):]
    for one, many in _PLURAL.items():
        if rest.startswith(one):
            rest = many + rest[len(one):]
            break
    return listed[0].upper() + listed[1:] + rest
