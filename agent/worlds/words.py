"""The closed word classes the world reader uses (tables, no logic): counts, sizes, grounds, light,
relations, first actions, and what only the renderer can show. Things come from the template
catalogue (:mod:`simulator.templates`), materials from :mod:`simulator.materials`."""

from __future__ import annotations

COUNTS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "pair": 2, "couple": 2,
          "few": 3, "several": 3, "some": 3, "many": 6, "dozen": 12, "both": 2}
DETERMINERS = {"the", "a", "an", "another", "some", "this", "that", "these", "those", "of", "its", "their", "his",
               "her", "my", "your", "our"}
SIZES = {"big": 1.6, "large": 1.6, "huge": 2.2, "giant": 2.5, "tall": 1.4, "long": 1.4, "wide": 1.3,
         "small": 0.6, "little": 0.6, "tiny": 0.4, "mini": 0.5, "short": 0.7, "narrow": 0.8}
MATERIAL_WORDS = {"wooden": "wood", "wood": "wood", "metal": "metal", "metallic": "metal", "steel": "steel",
                  "iron": "iron", "aluminium": "aluminium", "aluminum": "aluminium", "rubber": "rubber",
                  "glass": "glass", "icy": "ice", "ice": "ice", "plastic": "plastic", "stone": "stone",
                  "marble": "marble", "concrete": "concrete", "ceramic": "ceramic", "porcelain": "ceramic",
                  "cardboard": "cardboard", "paper": "paper", "foam": "foam", "cork": "cork", "clay": "clay",
                  "leather": "leather", "felt": "felt", "golden": "gold", "gold": "gold", "wax": "wax",
                  "brick": "clay"}
MATERIAL_GROUNDS = {"icy": "ice", "ice": "ice", "frozen": "ice", "wooden": "wood", "wood": "wood",
                    "concrete": "concrete", "stone": "concrete", "brick": "concrete", "tiled": "concrete",
                    "grassy": "grass", "sandy": "sand", "snowy": "snow", "carpeted": "carpet", "muddy": "dirt"}
# Words of the ground and the place: they set the floor (and light), and are no things.
GROUNDS = {"snow": "snow", "snowy": "snow", "winter": "snow", "snowfield": "snow", "grass": "grass",
           "grassy": "grass", "lawn": "grass", "garden": "grass", "park": "grass", "meadow": "grass",
           "field": "grass", "yard": "grass", "backyard": "grass", "sand": "sand", "sandy": "sand", "beach": "sand",
           "desert": "sand", "rink": "ice", "frozen": "ice", "parquet": "wood", "street": "concrete",
           "road": "concrete", "garage": "concrete", "pavement": "concrete", "sidewalk": "concrete",
           "parking": "concrete", "carpet": "carpet", "carpeted": "carpet", "rug": "carpet", "dirt": "dirt",
           "mud": "dirt", "muddy": "dirt", "soil": "dirt"}
PLACE_NOUNS = {"floor", "ground", "hill", "hillside", "slope", "lake", "pond", "room", "kitchen", "garden", "park",
               "yard", "backyard", "street", "road", "court", "gym", "garage", "desert", "meadow", "field", "beach",
               "rink", "world", "scene", "place", "office", "hall", "house", "lawn", "sand", "snow", "grass",
               "pavement", "sidewalk", "playground", "studio", "warehouse", "living", "bedroom", "classroom",
               "corner", "middle", "centre", "center", "side", "day", "night", "evening", "morning", "afternoon",
               "sunset", "dusk", "dawn", "sunrise", "moonlight", "winter", "summer", "weather"}
LIGHTING = {"night": "night", "dark": "night", "midnight": "night", "moonlit": "night", "moonlight": "night",
            "nighttime": "night", "evening": "sunset", "sunset": "sunset", "dusk": "sunset", "dawn": "sunset",
            "sunrise": "sunset", "indoors": "indoors", "indoor": "indoors", "kitchen": "indoors",
            "room": "indoors", "office": "indoors", "gym": "indoors", "hall": "indoors", "bedroom": "indoors",
            "classroom": "indoors", "warehouse": "indoors", "studio": "indoors", "garage": "indoors"}
INDOOR_GROUND = {"kitchen": "wood", "bedroom": "carpet", "office": "carpet", "gym": "wood", "classroom": "wood",
                 "warehouse": "concrete", "garage": "concrete"}
PEOPLE = {"someone", "somebody", "person", "man", "woman", "kid", "child", "boy", "girl", "player", "i", "we",
          "you", "he", "she", "they", "it", "them", "people", "wind", "hand", "nobody", "everyone", "camera",
          "viewer", "top", "edge", "end", "other", "each", "one", "another", "bottom", "front", "back", "left",
          "right", "row", "line", "stack", "tower", "pile", "set", "group", "bunch", "collection", "circle",
          "ring", "way", "shape", "colour", "color", "size", "time", "moment", "second", "seconds", "metre",
          "metres", "meter", "meters", "cm", "m", "kg", "gram", "grams", "lot", "bit", "piece", "pieces"}
# Things the physics cannot represent: they go to the description and the video caption only.
RENDERER_ONLY = {
    "water": "liquid", "milk": "liquid", "juice": "liquid", "coffee": "liquid", "tea": "liquid", "wine": "liquid",
    "soup": "liquid", "rain": "liquid", "raining": "liquid", "puddle": "liquid", "puddles": "liquid",
    "ocean": "liquid", "sea": "liquid", "river": "liquid", "splash": "liquid", "splashing": "liquid",
    "liquid": "liquid", "paint": "liquid", "oil": "liquid", "lake": "liquid", "pond": "liquid",
    "smoke": "gas", "steam": "gas", "fog": "gas", "foggy": "gas", "mist": "gas", "misty": "gas", "cloud": "gas",
    "clouds": "gas", "fire": "gas", "flame": "gas", "flames": "gas", "burning": "gas", "dust": "gas",
    "cloth": "cloth", "tablecloth": "cloth", "flag": "cloth", "curtain": "cloth", "curtains": "cloth",
    "blanket": "cloth", "towel": "cloth", "sheet": "cloth", "rope": "cloth", "string": "cloth", "net": "cloth",
    "scarf": "cloth", "banner": "cloth",
    "glow": "light", "glowing": "light", "glows": "light", "laser": "light", "beam": "light", "sparkle": "light",
    "sparkles": "light", "sparkling": "light", "shining": "light", "shiny": "light", "reflection": "light",
    "reflections": "light", "rainbow": "light", "lightning": "light", "candle": "light", "lights": "light",
    "neon": "light", "spotlight": "light", "snowing": "weather", "snowfall": "weather", "snowflakes": "weather",
    "wind": "weather", "windy": "weather", "storm": "weather",
    "break": "breaking", "breaks": "breaking", "breaking": "breaking", "broken": "breaking", "shatter": "breaking",
    "shatters": "breaking", "shattering": "breaking", "crack": "breaking", "cracks": "breaking",
    "explode": "breaking", "explodes": "breaking", "explosion": "breaking", "melt": "breaking",
    "melts": "breaking", "melting": "breaking", "crumble": "breaking", "crumbles": "breaking",
}
# Relation phrases, longest first when matched. "under" reverses subject and object.
RELATION_PHRASES = {
    ("on", "top", "of", "each", "other"): "stacked", ("on", "top", "of", "one", "another"): "stacked",
    ("stacked", "on", "top", "of"): "on", ("in", "front", "of"): "in_front_of", ("at", "the", "back", "of"): "behind",
    ("on", "top", "of"): "on", ("next", "to"): "next_to", ("close", "to"): "next_to", ("in", "a", "row"): "in_a_row",
    ("in", "a", "line"): "in_a_row", ("lined", "up"): "in_a_row", ("in", "a", "circle"): "around",
    ("leaning", "on"): "leaning_on", ("leaning", "against"): "leaning_on", ("propped", "against"): "leaning_on",
    ("propped", "on"): "leaning_on", ("inside", "of"): "in",
    ("on",): "on", ("onto",): "on", ("upon",): "on", ("atop",): "on", ("in",): "in", ("inside",): "in",
    ("into",): "in", ("within",): "in", ("beside",): "next_to", ("besides",): "next_to", ("near",): "next_to",
    ("by",): "next_to", ("alongside",): "next_to", ("with",): "next_to", ("behind",): "behind",
    ("against",): "leaning_on", ("leaning",): "leaning_on", ("around",): "around", ("surrounding",): "around",
    ("surrounded",): "around", ("under",): "under", ("beneath",): "under", ("below",): "under",
    ("underneath",): "under", ("stacked",): "stacked", ("facing",): "around", ("side", "by", "side"): "side_by_side",
    ("next", "to", "each", "other"): "side_by_side", ("full", "of"): "holds", ("filled", "with"): "holds",
    ("holding",): "holds", ("containing",): "holds", ("stack",): "stacked", ("tower",): "stacked",
    ("pile",): "stacked", ("row",): "in_a_row", ("line",): "in_a_row", ("down",): "on", ("at", "the", "top", "of"): "on",
    ("at", "the", "bottom", "of"): "next_to", ("at", "the", "foot", "of"): "next_to", ("across", "from"): "in_front_of",
    ("opposite",): "in_front_of", ("beneath", "the"): "under", ("resting", "on"): "on", ("sitting", "on"): "on",
    ("standing", "on"): "on", ("lying", "on"): "on", ("sitting", "in"): "in",
}
ACTION_PHRASES = {
    ("knocks", "over"): "knock_over", ("knock", "over"): "knock_over", ("knocked", "over"): "knock_over",
    ("knocks", "down"): "knock_over", ("knock", "down"): "knock_over", ("tips", "over"): "knock_over",
    ("tip", "over"): "knock_over", ("let", "go"): "drop", ("lets", "go"): "drop",
    ("push",): "push", ("pushes",): "push", ("pushed",): "push", ("pushing",): "push", ("shove",): "push",
    ("shoves",): "push", ("shoved",): "push", ("nudge",): "push", ("nudges",): "push", ("nudged",): "push",
    ("slide",): "push", ("slides",): "push", ("sliding",): "push", ("flick",): "push", ("flicks",): "push",
    ("kick",): "kick", ("kicks",): "kick", ("kicked",): "kick", ("kicking",): "kick",
    ("roll",): "roll", ("rolls",): "roll", ("rolled",): "roll", ("rolling",): "roll",
    ("drop",): "drop", ("drops",): "drop", ("dropped",): "drop", ("dropping",): "drop", ("falls",): "drop",
    ("fall",): "drop", ("falling",): "drop", ("released",): "drop", ("tumbles",): "drop",
    ("topple",): "knock_over", ("topples",): "knock_over", ("toppling",): "knock_over",
    ("toppled",): "knock_over",
}
DIRECTIONS = {"left": "left", "leftward": "left", "leftwards": "left", "right": "right", "rightward": "right",
              "rightwards": "right", "forward": "forward", "forwards": "forward", "away": "back",
              "backward": "back", "backwards": "back", "toward": "toward", "towards": "toward", "at": "toward"}
BREAKS = {",", ".", ";", ":", "!", "?", "while", "then", "and", "but", "where", "which", "that"}
RELATION_PHRASES_FLAT = {w for phrase in RELATION_PHRASES for w in phrase}
ACTION_WORDS = {w for phrase in ACTION_PHRASES for w in phrase}
