"""THE colour table: colour words to '#rrggbb' and back.

Plain names (``colours.yaml``, preferred in narration), every CSS colour name (the ``webcolors``
package), aliases ("gray", "golden"), the colour of common things ("the colour of grass", of a
banana: ``colours.yaml``, then the object catalogue), and the nearest name for any hex colour
(perceptual distance in CIE Lab; a plain name unless a CSS name is much closer).
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import webcolors
import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from agent.knowledge.catalogue import lookup
from simulator.scene import check_color

COLOURS_FILE = Path(__file__).with_name("colours.yaml")
CSS_CLOSER_BY = 12.0
"""A CSS name wins over the nearest plain name only when it is this much closer (CIE Lab units)."""


class ColourTable(BaseModel):
    """The colour data of ``colours.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plain: dict[str, str]
    """Plain colour names (the narration's words) -> '#rrggbb'."""
    aliases: dict[str, str]
    """Other words for a plain name -> that plain name."""
    things: dict[str, str]
    """Common things -> their colour '#rrggbb'."""

    @field_validator("plain", "things")
    @classmethod
    def _hex(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: check_color(c) for k, c in v.items()}


@functools.cache
def table() -> ColourTable:
    """The colour data (read once)."""
    data = ColourTable.model_validate(yaml.safe_load(COLOURS_FILE.read_text(encoding="utf-8")))
    unknown = sorted(set(data.aliases.values()) - set(data.plain))
    if unknown:
        raise RuntimeError(f"{COLOURS_FILE}: aliases point to unknown plain names {unknown}")
    return data


@functools.cache
def css_names() -> dict[str, str]:
    """Every CSS3 colour name -> '#rrggbb'."""
    return {name: webcolors.name_to_hex(name, spec="css3") for name in webcolors.names("css3")}


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", text.lower()).split())


def hex_for(name: str) -> str | None:
    """The colour a colour word names ("red", "light blue", "gray", "rebecca purple"), or None."""
    word = _words(name)
    data = table()
    word = data.aliases.get(word, word)
    if word in data.plain:
        return data.plain[word]
    return css_names().get(word.replace(" ", ""))


def colour_of(thing: str) -> str | None:
    """The colour of a common thing ("grass", "the sky", "a banana"), or None."""
    word = re.sub(r"^(?:the|a|an|some|fresh|ripe)\s+", "", _words(thing))
    things = table().things
    if word in things:
        return things[word]
    if word.endswith("s") and word[:-1] in things:
        return things[word[:-1]]
    obj = lookup(word)
    return obj.colour if obj else None


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE Lab (D65) of an sRGB '#rrggbb'."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def distance(a: str, b: str) -> float:
    """Perceptual distance between two '#rrggbb' colours (CIE76 delta E)."""
    return math.dist(_lab(a), _lab(b))


def nearest_name(colour: str, *, plain: bool = True) -> str:
    """The closest colour word for '#rrggbb': a plain name, unless `plain` is False or a CSS name is
    much closer (then the CSS name, e.g. 'salmon')."""
    colour = check_color(colour)
    best_plain = min(table().plain.items(), key=lambda kv: distance(colour, kv[1]))
    if plain:
        best_css = min(css_names().items(), key=lambda kv: distance(colour, kv[1]))
        if distance(colour, best_css[1]) + CSS_CLOSER_BY < distance(colour, best_plain[1]):
            return best_css[0]
        return best_plain[0]
    return min(css_names().items(), key=lambda kv: distance(colour, kv[1]))[0]


def known_names() -> list[str]:
    """Every colour word :func:`hex_for` knows (plain names, aliases, CSS names)."""
    data = table()
    return sorted(set(data.plain) | set(data.aliases) | set(css_names()))
