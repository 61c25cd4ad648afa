"""Knowledge as data: the object catalogue's units, lookups by word, and the one colour table."""

import re

import pytest

from agent.knowledge.catalogue import catalogue, lookup, singulars
from agent.knowledge.colours import colour_of, css_names, distance, hex_for, known_names, nearest_name, table
from simulator import World, parse_scene
from simulator.materials import materials
from simulator.scene import EntitySpec


def test_the_catalogue_holds_a_few_hundred_objects_in_real_units():
    objects = catalogue().objects
    assert len(objects) >= 200
    for o in objects:
        dims = o.size if o.shape == "box" else (2 * o.size[0], o.height)
        assert 0.005 <= max(dims) <= 3.0, (o.name, o.size)  # metres, not centimetres
        assert 0.5 <= o.density <= 20_000, (o.name, o.density)
        mat = materials()[o.material]
        if o.solid:  # a solid thing weighs about what its material does
            assert mat.density / 3 <= o.density <= mat.density * 3, (o.name, o.density, mat.density)
        else:  # hollow: lighter than its material, at most as dense as a full container of water
            assert o.density < max(mat.density, 1500), (o.name, o.density)
    by = {o.name: o for o in objects}
    assert by["golf ball"].size == (0.02135,) and by["golf ball"].mass == pytest.approx(0.0459)
    assert by["basketball"].size[0] > 10 * by["marble"].size[0]
    assert 2 < by["brick"].mass < 4 and 0.2 < by["brick"].size[0] < 0.25
    assert by["banana"].shape == "capsule" and by["soda can"].shape == "cylinder"
    assert 0.3 < by["soda can"].mass < 0.45 and 0.1 < by["soda can"].height < 0.15


def test_every_object_spawns_as_a_valid_entity_and_keeps_its_mass():
    entities = []
    for i, o in enumerate(catalogue().objects[:40]):
        entities.append(EntitySpec(id=f"o{i}", shape=o.shape, size=o.size, mass=o.mass, color=o.colour,
                                   material=o.material, position=((i % 8) * 1.0, (i // 8) * 1.0, o.height / 2 + 0.01)))
    world = World(parse_scene("name: shop\n", source="x.yaml").model_copy(update={"entities": entities}))
    state = world.state()
    assert state.entities["o0"].mass == pytest.approx(catalogue().objects[0].mass)
    assert state.entities["o0"].material == catalogue().objects[0].material


@pytest.mark.parametrize("phrase, name", [
    ("lemon", "lemon"), ("lemons", "lemon"), ("four lemons", "lemon"), ("a golf ball", "golf ball"),
    ("golf balls", "golf ball"), ("a can of cola", "soda can"), ("three cans of cola", "soda can"),
    ("Tennis Balls", "tennis ball"), ("dice", "die"), ("a pair of dice", "die"), ("the knives", "knife"),
    ("cherries", "cherry"), ("tomatoes", "tomato"), ("peaches", "peach"), ("boxes", "cardboard box"),
    ("a bottle of wine", "wine bottle"), ("dominoes", "domino"), ("a mug", "mug"), ("bananas", "banana"),
])
def test_lookup_by_word_plural_and_synonym(phrase, name):
    assert lookup(phrase).name == name


@pytest.mark.parametrize("phrase", ["the table", "gently", "xylophone juice", "", "on top"])
def test_unknown_words_find_nothing(phrase):
    assert lookup(phrase) is None


def test_singulars_of_the_head_noun():
    assert "can of cola" in singulars("cans of cola")
    assert "golf ball" in singulars("golf balls")
    assert singulars("") == []


def test_every_colour_is_valid_hex_and_plain_names_round_trip():
    data = table()
    for name, colour in {**data.plain, **data.things, **css_names()}.items():
        assert re.fullmatch(r"#[0-9a-f]{6}", colour), name
    for o in catalogue().objects:
        assert re.fullmatch(r"#[0-9a-f]{6}", o.colour), o.name
    for name, colour in data.plain.items():
        assert nearest_name(colour) == name, name
    assert len(css_names()) >= 140 and {"red", "salmon", "darkslategray"} <= set(known_names())


@pytest.mark.parametrize("word, expected", [("red", "#d62828"), ("Gray", "#808080"), ("light blue", "#87ceeb"),
                                            ("salmon", "#fa8072"), ("dark slate gray", "#2f4f4f"),
                                            ("golden", "#d4af37"), ("blurple", None)])
def test_colour_words(word, expected):
    assert hex_for(word) == expected


@pytest.mark.parametrize("thing, name", [("grass", "green"), ("the sky", "light blue"), ("snow", "white"),
                                         ("a banana", "yellow"), ("lemons", "yellow"), ("coal", "black"),
                                         ("a tomato", "red"), ("chocolate", "dark brown")])
def test_the_colour_of_common_things(thing, name):
    assert nearest_name(colour_of(thing)) == name


def test_nearest_name_prefers_plain_words_and_measures_perceptually():
    assert nearest_name("#d62828") == "red" and nearest_name("#f4a261") == "peach"
    assert nearest_name("#2a9d8f") == "teal" and nearest_name("#000000") == "black"
    assert nearest_name("#fa8072", plain=False) == "salmon"
    assert distance("#ff0000", "#fe0000") < 1 < distance("#ff0000", "#00ff00")
    assert colour_of("unobtainium") is None
    with pytest.raises(ValueError, match="#rrggbb"):
        nearest_name("red")
