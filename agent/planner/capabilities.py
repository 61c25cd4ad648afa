"""What the planner can do, in words with examples: shown by the REPL's :help (and kept in step
with the README and the page's action placeholder)."""

from __future__ import annotations

CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("push, kick, roll, throw, toss up", "push the ball gently to the left; toss the cube up"),
    ("stop, let go, remove", "stop the ball; the hook lets go of the box; remove the lemon"),
    ("paint, heavier, lighter", "paint the mug the colour of grass; make the book heavier"),
    ("add bodies (from a catalogue)", "add four lemons to the table; put a golf ball on the book"),
    ("carry a body", "put the apple on the book; put the cube into the bin; move the can next to the mug"),
    ("goals (checked by imagining first)", "topple the stack; push the ball off the back edge; push the "
                                          "apple until it touches the mug; barely move the book"),
    ("several bodies", "push both the apple and the pear right; paint all the blocks red; remove every fruit"),
    ("which body", "the heaviest fruit; the smaller ball; the block on top; the toy next to the cylinder"),
    ("several steps", "paint the mug red and push it to the right; remove the can, then push the book away"),
    ("questions (nothing changes)", "how many blocks are there? what is on the table? where did the ball go?"),
)
"""(what, examples) pairs."""


def capabilities_text(markup: bool = True) -> str:
    """The capabilities as lines for a terminal (rich markup when `markup`)."""
    lines = ["What you can ask (English; unclear words are refused with a question, never guessed):"]
    for what, example in CAPABILITIES:
        lines.append(f"  {what:34s} [dim]{example}[/]" if markup else f"  {what:34s} {example}")
    return "\n".join(lines)
