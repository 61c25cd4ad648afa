"""Colour by reference or paraphrase: "the same colour as the ball", "like the can", "the colour of grass".

:func:`colour_reference` finds such a phrase, resolves it (an entity of the world gives its own
colour; a common thing gives its typical colour from agent/knowledge/colours.py) and returns the action with the phrase replaced by
a plain colour word (so the verb cues and grounding read "paint the mug green") plus the exact
colour to write. The phrase's nouns are never taken as the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.knowledge.colours import colour_of
from agent.planner.narration.describe import colour_name

_SAME = re.compile(r"\b(?:the )?same colou?r as (?:the |a |an )?([a-z0-9' -]+?)(?=[.,;!?]|$| and\b| then\b|"
                   r" but\b)", re.IGNORECASE)
_OF = re.compile(r"\b(?:the )?colou?r of (?:the |a |an |some |fresh |ripe )?([a-z' -]+?)(?=[.,;!?]|$| and\b|"
                 r" then\b| but\b)", re.IGNORECASE)
_LIKE = re.compile(r"\b((?:colou?r|paint|dye|tint)\w* .+?) like (?:the |a |an )?([a-z0-9' -]+?)(?=[.,;!?]|$| and\b)",
                   re.IGNORECASE)


@dataclass(frozen=True)
class ColourRef:
    """A colour named by reference."""

    text: str
    """The action with the reference replaced by a colour word."""
    colour: str
    """'#rrggbb' to write."""
    source: str
    """What it came from: an entity id or a common thing."""


def colour_reference(action: str, entity_colour) -> ColourRef | None:
    """Resolve a colour reference in `action`; `entity_colour(words)` gives an entity's colour or None."""
    for pattern in (_SAME, _OF, _LIKE):
        m = pattern.search(action)
        if not m:
            continue
        words = m.group(m.lastindex).strip().lower()
        hex_colour = entity_colour(words)
        source = words
        if hex_colour is None:
            hex_colour = colour_of(words)  # the one colour table: agent/knowledge/colours.py
            if hex_colour is None:
                return None
        name = colour_name(hex_colour) or "grey"
        if pattern is _LIKE:
            text = action[: m.start()] + m.group(1) + " " + name + action[m.end():]
        else:
            text = action[: m.start()] + name + action[m.end():]
        return ColourRef(text, hex_colour, source)
    return None
