"""The catalogue of everyday objects (``objects.yaml``): real sizes, masses, colours and materials,
looked up by a word or phrase ("lemons", "a can of cola", "golf balls")."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulator.bounds import volume
from simulator.limits import LIMITS
from simulator.materials import check_material
from simulator.scene import SIZE_ARITY, SIZE_MEANING, Shape, check_color

OBJECTS_FILE = Path(__file__).with_name("objects.yaml")
CATALOGUE_SCHEMA_VERSION = 1
_IRREGULAR = {"dice": "die", "knives": "knife", "leaves": "leaf", "mice": "mouse", "loaves": "loaf", "geese": "goose",
              "shelves": "shelf", "halves": "half", "wolves": "wolf", "men": "man", "women": "woman",
              "children": "child", "feet": "foot", "teeth": "tooth", "cherries": "cherry"}
_ARTICLES = re.compile(r"^(?:a|an|the|some|one|two|three|four|five|six|seven|eight|nine|ten|\d+|pair of|couple of|"
                       r"dozen|bunch of|few|several|many|lots of|lot of|more|another|other)\s+")


class CatalogueObject(BaseModel):
    """One everyday object as one primitive body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9 '\-]*$")
    """Its name: lowercase, singular."""
    synonyms: tuple[str, ...] = ()
    """Other names for it (lowercase, singular)."""
    category: str
    """A group word: fruit, vegetable, ball, kitchen, toy, ..."""
    shape: Shape
    """The primitive that stands for it."""
    size: tuple[float, ...]
    """Size in metres, in the scene's convention (box: full sides; sphere: [radius]; cylinder and
    capsule: [radius, length of the straight part])."""
    mass: float = Field(gt=0, le=LIMITS.max_mass)
    """Mass in kg."""
    colour: str
    """A typical colour, '#rrggbb'."""
    material: str
    """What it is made of (a name in simulator/materials.yaml)."""
    solid: bool = True
    """False when the primitive encloses air (a container, an inflated ball, a thin utensil)."""

    _check_colour = field_validator("colour")(lambda v: check_color(v))
    _check_material = field_validator("material")(lambda v: check_material(v))

    @model_validator(mode="after")
    def _check_size(self) -> CatalogueObject:
        if len(self.size) != SIZE_ARITY[self.shape]:
            raise ValueError(f"{self.name}: size for a {self.shape} is {SIZE_MEANING[self.shape]}, got {list(self.size)}")
        if not all(LIMITS.min_size <= s <= LIMITS.max_size for s in self.size):
            raise ValueError(f"{self.name}: sizes lie between {LIMITS.min_size} and {LIMITS.max_size} m, got {list(self.size)}")
        return self

    @property
    def volume(self) -> float:
        """Volume of its primitive (m³)."""
        return volume(self.shape, self.size)

    @property
    def density(self) -> float:
        """Mass over the primitive's volume (kg/m³)."""
        return self.mass / self.volume

    @property
    def height(self) -> float:
        """Its height standing as spawned (m): what a spawn on a surface adds to the surface's top."""
        if self.shape == "box":
            return self.size[2]
        if self.shape == "sphere":
            return 2 * self.size[0]
        return self.size[1] + (2 * self.size[0] if self.shape == "capsule" else 0.0)


class Catalogue(BaseModel):
    """Every object, and the index of the words that name them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = CATALOGUE_SCHEMA_VERSION
    """Catalogue format version."""
    objects: tuple[CatalogueObject, ...]
    """The objects, in file order."""

    @model_validator(mode="after")
    def _unique_words(self) -> Catalogue:
        seen: dict[str, str] = {}
        for obj in self.objects:
            for word in (obj.name, *obj.synonyms):
                if word in seen and seen[word] != obj.name:
                    raise ValueError(f"{word!r} names both {seen[word]!r} and {obj.name!r}")
                seen[word] = obj.name
        return self

    @functools.cached_property
    def _index(self) -> dict[str, CatalogueObject]:
        return {word: obj for obj in self.objects for word in (obj.name, *obj.synonyms)}

    def words(self) -> list[str]:
        """Every name and synonym, longest first (for finding them in a sentence)."""
        return sorted(self._index, key=lambda w: (-len(w), w))

    def lookup(self, phrase: str) -> CatalogueObject | None:
        """The object a noun phrase names ("lemons", "a golf ball", "three cans of cola"), or None."""
        text = " ".join(re.sub(r"[^a-z0-9 '\-]", " ", phrase.lower()).split())
        while (stripped := _ARTICLES.sub("", text)) != text:
            text = stripped
        for candidate in (text, *singulars(text)):
            if candidate in self._index:
                return self._index[candidate]
        return None

    def in_category(self, category: str) -> list[CatalogueObject]:
        """Every object of a category ('fruit', 'ball', ...)."""
        return [o for o in self.objects if o.category == category]


def singulars(phrase: str) -> list[str]:
    """Singular readings of a plural noun phrase: the head noun, or the noun before 'of' ("cans of cola")."""
    words = phrase.split()
    if not words:
        return []
    at = words.index("of") - 1 if "of" in words[1:] else len(words) - 1
    return [" ".join(words[:at] + [s] + words[at + 1 :]) for s in _singular(words[at])]


def _singular(word: str) -> list[str]:
    if word in _IRREGULAR:
        return [_IRREGULAR[word]]
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("ves"):
        out += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith(("ches", "shes", "xes", "sses", "zes", "oes")):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    return out


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue (read once from ``objects.yaml``)."""
    raw = yaml.safe_load(OBJECTS_FILE.read_text(encoding="utf-8"))
    try:
        return Catalogue(objects=tuple(raw["objects"]))
    except ValidationError as exc:
        raise RuntimeError(f"{OBJECTS_FILE} is damaged: {exc}") from None


def lookup(phrase: str) -> CatalogueObject | None:
    """The catalogue object a phrase names, or None (see :meth:`Catalogue.lookup`)."""
    return catalogue().lookup(phrase)


__all__ = ["Catalogue", "CatalogueObject", "catalogue", "lookup", "singulars"]
