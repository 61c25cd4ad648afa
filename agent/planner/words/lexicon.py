"""Words and the slots they state outright: verb cues, directions, strength, colours, amounts.

Pure and table-driven. :mod:`agent.planner.words.grounding` uses the closed word classes here to find
noun phrases; :mod:`agent.planner.words.verbs` weighs the verb cues (and asks the model where they
are unsure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.planner.words.intent import COLOURS, VERBS

TOKEN = re.compile(r"[a-z]+(?:'s)?|\d+(?:\.\d+)?")

DEFINITE = {"the", "this", "that", "these", "those", "my", "your", "his", "her", "their", "our"}
INDEFINITE = {"a", "an", "another", "some"}
PRONOUNS = {"it", "its", "itself", "them", "they"}
AUX = {"is", "are", "was", "were", "be", "been", "being", "gets", "get", "got", "has", "have", "had", "will",
       "would", "should", "can", "could", "does", "do", "did", "may", "might", "must", "becomes", "become",
       "stays", "stay", "keeps", "remains"}
CONJ = {"and", "or", "but", "then", "so", "while", "as", "because", "until", "when", "before", "after", "if",
        "than", "which", "who", "that"}
PREPS = {"on", "onto", "into", "in", "at", "to", "toward", "towards", "off", "of", "from", "with", "by", "near",
         "beside", "next", "over", "under", "above", "below", "behind", "across", "along", "down", "up",
         "through", "around", "against", "between", "for", "inside", "atop", "underneath", "past", "like"}
AGENTS = {"someone", "somebody", "something", "child", "kid", "boy", "girl", "man", "woman", "person", "bowler",
          "player", "bird", "cat", "dog", "hand", "finger", "fingers", "wind", "gust", "breeze", "ghost", "robot",
          "people", "user", "gardener", "squirrel", "i", "you", "we", "he", "she", "nobody", "everyone", "toddler",
          "magician", "force", "earthquake", "storm", "bit", "little", "lot", "moment", "while", "second", "few",
          "way", "time"}
NON_OBJECT = {"edge", "edges", "side", "sides", "left", "right", "middle", "center", "centre", "top", "bottom",
              "front", "back", "end", "corner", "air", "floor", "ground", "camera", "viewer", "me", "us", "screen",
              "way", "direction", "room", "sky", "world", "scene", "everything", "nothing", "all", "rest",
              "distance", "far", "wall", "one", "ones", "other", "others", "same", "place", "spot", "position",
              "weight", "colour", "color", "shade", "speed", "force", "again", "now", "here", "there", "lane's"}
SIZE_WORDS = {"small": 0.6, "tiny": 0.4, "little": 0.6, "mini": 0.5, "big": 1.8, "large": 1.8, "huge": 2.5,
              "giant": 3.0, "medium": 1.0}
MATERIALS = {  # density kg/m^3, default colour
    "wooden": (600, "#b5895a"), "wood": (600, "#b5895a"), "rubber": (1100, "#d62828"),
    "metal": (7800, "#a8a9ad"), "steel": (7800, "#a8a9ad"), "iron": (7800, "#5a5a5a"),
    "glass": (2500, "#a6d8e8"), "plastic": (950, "#e0e0e0"), "cardboard": (150, "#c19a6b"),
    "paper": (100, "#f5f0e1"), "foam": (50, "#f5e663"), "stone": (2500, "#8a8a85"), "lead": (11300, "#5f6a6a"),
    "tennis": (380, "#c8e03c"), "golf": (1100, "#f8f8f8"), "bowling": (1400, "#264653"), "ping": (80, "#ffffff"),
}
COLOUR_SYNONYMS = {"gray": "grey", "violet": "purple", "teal": "cyan", "turquoise": "cyan", "golden": "gold",
                   "crimson": "red", "scarlet": "red", "navy": "blue", "lime": "green", "magenta": "pink",
                   "tan": "beige", "lilac": "purple", "maroon": "red", "emerald": "green", "azure": "blue"}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1, "final": -1}
SPATIAL = {"top": "top", "topmost": "top", "highest": "top", "upper": "top", "bottom": "bottom",
           "lowest": "bottom", "bottommost": "bottom", "lower": "bottom", "middle": "middle", "centre": "middle",
           "center": "middle", "central": "middle", "leftmost": "leftmost", "rightmost": "rightmost",
           "nearest": "nearest", "closest": "nearest", "farthest": "farthest", "furthest": "farthest"}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14}
GROUP_NOUNS = {"tower", "stack", "pile", "row", "line", "chain", "column", "set", "group", "rack"}

SPAWN_NOUNS: dict[str, tuple[str, tuple[float, ...]]] = {  # noun -> (shape, default size in metres)
    "ball": ("sphere", (0.05,)), "sphere": ("sphere", (0.05,)), "marble": ("sphere", (0.012,)),
    "orb": ("sphere", (0.06,)), "globe": ("sphere", (0.1,)), "apple": ("sphere", (0.045,)),
    "orange": ("sphere", (0.04,)), "bead": ("sphere", (0.01,)), "pebble": ("sphere", (0.02,)),
    "rock": ("sphere", (0.06,)), "stone": ("sphere", (0.05,)), "bubble": ("sphere", (0.05,)),
    "football": ("sphere", (0.11,)), "basketball": ("sphere", (0.12,)), "balloon": ("sphere", (0.12,)),
    "box": ("box", (0.3, 0.25, 0.2)), "cube": ("box", (0.1, 0.1, 0.1)), "block": ("box", (0.12, 0.12, 0.1)),
    "crate": ("box", (0.4, 0.3, 0.3)), "brick": ("box", (0.2, 0.1, 0.06)), "die": ("box", (0.03, 0.03, 0.03)),
    "dice": ("box", (0.03, 0.03, 0.03)), "book": ("box", (0.2, 0.14, 0.03)), "parcel": ("box", (0.25, 0.2, 0.15)),
    "package": ("box", (0.25, 0.2, 0.15)), "domino": ("box", (0.025, 0.1, 0.2)), "chest": ("box", (0.5, 0.3, 0.3)),
    "cylinder": ("cylinder", (0.04, 0.12)), "can": ("cylinder", (0.033, 0.12)), "tin": ("cylinder", (0.04, 0.1)),
    "mug": ("cylinder", (0.04, 0.1)), "cup": ("cylinder", (0.04, 0.1)), "bottle": ("cylinder", (0.035, 0.25)),
    "jar": ("cylinder", (0.05, 0.14)), "log": ("cylinder", (0.08, 0.5)), "barrel": ("cylinder", (0.2, 0.6)),
    "pillar": ("cylinder", (0.08, 0.6)), "drum": ("cylinder", (0.15, 0.3)), "candle": ("cylinder", (0.02, 0.15)),
    "puck": ("cylinder", (0.038, 0.025)), "coin": ("cylinder", (0.012, 0.003)),
    "lemon": ("sphere", (0.03,)), "lime": ("sphere", (0.025,)), "pear": ("sphere", (0.035,)),
    "peach": ("sphere", (0.035,)), "plum": ("sphere", (0.025,)), "grape": ("sphere", (0.01,)),
    "cherry": ("sphere", (0.012,)), "tomato": ("sphere", (0.035,)), "egg": ("sphere", (0.025,)),
    "melon": ("sphere", (0.09,)), "golf": ("sphere", (0.021,)),
    "capsule": ("capsule", (0.03, 0.12)), "pill": ("capsule", (0.01, 0.02)), "pin": ("capsule", (0.055, 0.27)),
    "rod": ("capsule", (0.015, 0.4)), "stick": ("capsule", (0.015, 0.35)), "baton": ("capsule", (0.02, 0.3)),
}
SHAPE_WORDS = {"sphere": "sphere", "cube": "box", "cylinder": "cylinder", "capsule": "capsule"}
"""Words that may name an existing entity by its shape alone ('box' is left out: it names things)."""

SYNONYMS = {"cup": "mug", "mug": "cup", "tile": "domino", "domino": "tile", "sphere": "ball", "ball": "sphere",
            "block": "cube", "cube": "block", "plank": "board", "desk": "table", "skittle": "pin",
            "tabletop": "table", "top": "table"}


def singular(word: str) -> str:
    """Plural nouns to singular, well enough for object names ('dominoes' -> 'domino', 'boxes' -> 'box')."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("oes", "xes", "ches", "shes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lowercase word and number tokens; 'apple's' stays one token (a possessive)."""
    text = text.lower().replace("\u2019", "'").replace("-", " ").replace("_", " ")
    return TOKEN.findall(text)


def colour_word(word: str) -> str | None:
    """The intent colour a word names ('gray' -> 'grey'), or None."""
    word = COLOUR_SYNONYMS.get(word, word)
    return word if word in COLOURS else None


@dataclass(frozen=True)
class Cue:
    """One verb cue: a regular expression over the normalised action and the weight it adds."""

    verb: str
    """The verb it points to."""
    pattern: re.Pattern
    """Where it matches (word boundaries included)."""
    weight: float
    """How much a match counts for the verb."""


def _forms(*stems: str) -> str:
    out = []
    for s in stems:
        out.append(s if " " in s or s.endswith(")") else f"{s}(?:s|es|ed|d|ing)?")
    return r"\b(?:" + "|".join(out) + r")\b"


_COLOUR_RE = "(?:" + "|".join(sorted(list(COLOURS) + list(COLOUR_SYNONYMS), key=len, reverse=True)) + ")"
STEMS: dict[str, tuple[str, ...]] = {
    "push": ("push", "shove", "kick", "flick", "nudge", "slide", "slid", "roll", "bump", "knock", "hit", "strike",
             "struck", "bat", "tap", "tapped", "poke", "hurl", "fling", "flung", "launch", "send", "sent", "bowl",
             "smack", "whack", "swat", "slap", "sweep", "swept", "swipe", "propel", "drive", "drove", "move",
             "budge", "topple", "jolt", "jab", "ram", "rammed", "shoot", "shot", "blow", "blew", "blown",
             "bounce", "skid", "scoot", "tip", "tipped", "spin", "spun", "smash", "slam", "slammed", "flip",
             "flipped", "pass", "nudg", "hitting", "rolled"),
    "throw": ("throw", "threw", "thrown", "toss", "lob", "pitch", "chuck", "pitched"),
    "lift": ("jump", "hop", "leap", "leapt", "lift", "raise", "levitate"),
    "stop": ("stop", "stopped", "halt", "freeze", "froze", "frozen", "catch", "caught", "brake", "arrest",
             "still", "stall"),
    "release": ("release", "unhook", "unpin", "detach", "loosen", "free", "unfreeze", "unstick", "drop",
                "dropped", "snap", "snapped", "break", "broke", "cut", "fall", "fell", "unclip", "let"),
    "remove": ("remove", "delete", "vanish", "disappear", "erase", "eliminate", "destroy", "dissolve",
               "evaporate", "gone", "banish", "despawn", "obliterate", "take", "took", "taken", "pick"),
    "recolor": ("paint", "repaint", "dye", "tint", "recolor", "recolour", "colour", "color", "spray", "turn",
                "change"),
    "spawn": ("appear", "spawn", "place", "put", "add", "create", "conjure", "materialize", "materialise",
              "arrive", "land", "emerge", "summon", "insert", "introduce"),
    "nothing": ("wait", "calm", "idle", "pause", "rest", "remain", "settle", "linger", "sit", "sat", "stand",
                "stood", "hang", "hung", "observe", "watch", "look", "stay", "happen", "hold", "held", "become",
                "became", "weigh", "get", "go", "went", "make", "made"),
}
"""Verb stems by the verb they cue ('throw' and 'lift' are push or toss_up cues; 'nothing' holds
words that are verbs but point to no change)."""
VERB_WORD = re.compile(r"^(?:" + "|".join(
    f"{s}(?:s|es|ed|d|ing)?" for stems in STEMS.values() for s in stems) + r")$")
"""A single token that is one of the verbs above (ends a noun phrase)."""

_CUE_TABLE: list[tuple[str, str, float]] = [
    ("push", _forms(*STEMS["push"]), 1.0),
    ("push", _forms(*STEMS["throw"]), 0.8),
    ("push", r"\b(?:knock\w*|tip\w*|push\w*|blow\w*|blew) (?:\w+ )?(?:over|down)\b", 1.0),
    ("toss_up", r"\b(?:toss\w*|throw\w*|threw|fling\w*|flung|flick\w*|kick\w*|launch\w*|bounc\w*|pop\w*|"
                r"jerk\w*|lift\w*|bump\w*|hit\w*|push\w*|lob\w*|send\w*|sent|shoot\w*|shot) (?:\w+ ){0,3}?"
                r"(?:up|upward|upwards|skyward|skywards|into the air|in the air|aloft|straight up)\b", 2.5),
    ("toss_up", _forms(*STEMS["lift"]), 1.2),
    ("toss_up", r"\b(?:into|in) the air\b|\bupwards?\b|\bskywards?\b", 1.0),
    ("stop", _forms(*STEMS["stop"]), 1.5),
    ("stop", r"\b(?:hold|holds|held|keep|keeps) (?:\w+ )?(?:still|in place)\b|\bcomes? to (?:a )?(?:stop|rest)\b",
     2.0),
    ("release", _forms(*(s for s in STEMS["release"] if s != "let")), 1.0),
    ("release", r"\blet(?:s|ting)? (?:\w+ ){0,3}?(?:go|fall|drop)\b|\bcomes? loose\b|\bcame loose\b|\bbreaks? free\b|"
                r"\bcomes? (?:off|down)\b|\bcame (?:off|down)\b", 2.0),
    ("remove", _forms(*STEMS["remove"][:13]), 2.0),
    ("remove", r"\b(?:take|takes|took|taken|pick|picks|picked|carry|carries|carried)\b(?: \w+){0,4} "
               r"(?:away|up|out|off)\b|\bget(?:s)? rid of\b|\bno longer there\b|\bout of (?:the )?scene\b", 1.5),
    ("recolor", _forms(*STEMS["recolor"][:9]), 1.5),
    ("recolor", r"\b(?:turn\w*|become\w*|became|go|goes|went|change\w*|make\w*|made|glow\w*|is now|are now|"
                r"now) (?:\w+ ){0,2}?" + _COLOUR_RE + r"\b", 2.0),
    ("heavier", r"\bheav(?:y|ier|iest)\b|\bweighs? more\b|\bdenser\b|\bgains? weight\b|\bturns? to lead\b|"
                r"\bmade of lead\b|\bweighted\b|\bas heavy as\b|\bdoubles? (?:in|its) (?:weight|mass)\b", 2.5),
    ("lighter", r"\blight(?:er|est)\b|\blightweight\b|\bweightless\b|\bweighs? less\b|\bloses? weight\b|"
                r"\bfeather\w*\b|\bhollow\b|\bas light as\b|\bhalves? (?:in|its) (?:weight|mass)\b", 2.5),
    ("spawn", _forms(*STEMS["spawn"], "set down", "pop up", "pops up", "popped up", "show up", "shows up",
                     "fall onto", "falls onto", "drops onto", "dropped onto", "lands on"), 1.0),
    ("spawn", r"\bthere is now\b|\bout of nowhere\b|\bfrom above\b|\bfrom the sky\b|\bnew\b", 1.0),
    ("nothing", _forms(*STEMS["nothing"][:19], "quiet", "quietly", "nothing"), 1.0),
    ("nothing", r"\bnothing (?:happens|moves|changes)\b|\bdo(?:es)? nothing\b|\bno one\b|\bnobody\b|"
                r"\b(?:sits?|stands?|stays?|remains?|hangs?|rests?) (?:\w+ ){0,2}?(?:still|quietly|calm|put|"
                r"motionless|unchanged|untouched)\b|\bjust wait\b|\ball is (?:calm|quiet|still)\b|"
                r"\bnothing\b", 2.5),
]
CUES = [Cue(v, re.compile(p), w) for v, p, w in _CUE_TABLE]
assert {c.verb for c in CUES} == set(VERBS)

_GENTLE = re.compile(r"\b(?:gently|gentle|softly|soft|lightly|slightly|slowly|slow|carefully|barely|tiny|"
                     r"a (?:little|bit|touch)|nudge\w*|tap\w*|tip\w*|light (?:push|tap|touch|flick)|ease\w*)\b")
_HARD = re.compile(r"\b(?:hard|harder|strongly|strong|forcefully|violently|fast|quickly|powerfully|with force|"
                   r"as hard as|hurl\w*|slam\w*|smash\w*|blast\w*|launch\w*|whack\w*|fling\w*|flung|"
                   r"wallop\w*|mighty|full force|rocket\w*|with all)\b")
_DIRS = [
    ("left", r"\b(?:to(?:ward|wards)? the left|leftwards?|to the left|left)\b"),
    ("right", r"\b(?:to(?:ward|wards)? the right|rightwards?|to the right|right)\b"),
    ("toward", r"\b(?:to(?:ward|wards)? (?:the )?(?:camera|viewer|lens|screen|front|audience)|"
               r"to(?:ward|wards)? (?:me|us|you)|at (?:me|us|the camera|the viewer)|closer|nearer)\b"),
    ("away", r"\b(?:away|into the distance|to(?:ward|wards)? the back|further off)\b"),
    ("up", r"\b(?:up|upwards?|skywards?|into the air|in the air|straight up)\b"),
    ("down", r"\b(?:downwards?|straight down)\b"),
    ("forward", r"\b(?:forwards?|ahead|onward)\b"),
    ("back", r"\b(?:backwards?|back)\b"),
]
DIRS = [(d, re.compile(p)) for d, p in _DIRS]
_TIMES = re.compile(r"\b(\d+(?:\.\d+)?|two|three|four|five|ten) times\b")


def normalised(text: str) -> str:
    """Lowercase, hyphens and underscores as spaces, one space between words."""
    text = text.lower().replace("\u2019", "'").replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9'. ]", " ", text)).strip()


def verb_cues(text: str) -> tuple[dict[str, float], list[str]]:
    """Summed cue weight per verb, and the matched words (evidence), for normalised `text`."""
    scores = {v: 0.0 for v in VERBS}
    evidence = []
    for cue in CUES:
        m = cue.pattern.search(text)
        if m:
            scores[cue.verb] += cue.weight
            evidence.append(f"{cue.verb}:{m.group(0)}")
    return scores, evidence


def strength_of(text: str) -> str | None:
    """'gentle' or 'hard' when the action says so, else None."""
    if _HARD.search(text):
        return "hard"
    if _GENTLE.search(text):
        return "gentle"
    return None


def camera_direction(text: str) -> str | None:
    """The first camera-frame direction word in `text` (left, right, toward, away, up, down, forward, back)."""
    best = None
    for name, pattern in DIRS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def amount_of(text: str, verb: str) -> float | None:
    """The factor for heavier/lighter ('twice' -> 2, 'very' -> 10, 'a bit' -> 1.5), else None."""
    m = _TIMES.search(text)
    if m:
        word = m.group(1)
        return float(NUMBERS.get(word, 0) or word)
    if re.search(r"\b(?:twice|double\w*|half|halve\w*)\b", text):
        return 2.0
    if re.search(r"\b(?:triple\w*|thrice)\b", text):
        return 3.0
    if re.search(r"\b(?:slightly|a (?:bit|little|touch)|somewhat|a tad)\b", text):
        return 1.5
    if re.search(r"\b(?:very|much|extremely|really|super|incredibly|enormously|massively|a lot|as (?:heavy|light) "
                 r"as|brick|anvil|rock|feather|lead|tons?)\b", text):
        return 10.0
    return None
