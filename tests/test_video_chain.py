"""The video chain follows the session's committed turns: a turn's segment is anchored on the last
generated frame of the committed turn it starts from, read from the session's blob store, whatever
happened in this process before (a rewind, a dropped turn, a restart). Real parts throughout: a tiny
diffusers LTX pipeline saved and loaded back, real MuJoCo, a real SQLite session store."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")

from agent.turns.sessions import Session, SessionDB  # noqa: E402
from renderer.video import load_video_renderer  # noqa: E402
from tests._sessions_util import KICK, req, scene  # noqa: E402

SIZE = (32, 32)
DURATION = 0.25
TURNS = [("wait", None), ("flick", KICK), ("watch", None)]
"""(action, events) of the turns the tests play, each DURATION seconds."""



class Watched:
    """A loaded tiny renderer whose calls are recorded: the anchor each segment was given, and the
    anchor image its pipeline actually received."""

    def __init__(self, folder):
        self.renderer = load_video_renderer(folder, steps=2, size=SIZE)
        self.anchors, self.images, self.segments = [], [], []
        real_segment, real_preprocess = self.renderer.render_segment, self.renderer.pipe.video_processor.preprocess

        def render_segment(caption, geometry, **kwargs):
            self.anchors.append(kwargs.get("anchor"))
            self.segments.append(real_segment(caption, geometry, **kwargs))
            return self.segments[-1]

        def preprocess(image, *args, **kwargs):
            if isinstance(image, Image.Image):  # the anchor image (videos come through as arrays)
                self.images.append(np.asarray(image))
            return real_preprocess(image, *args, **kwargs)

        self.renderer.render_segment = render_segment
        self.renderer.pipe.video_processor.preprocess = preprocess


def play(session: Session, k: int):
    action, events = TURNS[k]
    return session.turn(req(action, events=events, duration=DURATION))


def frames_of(session: Session, record, geometry: bool = False) -> list[np.ndarray]:
    return session.episode.frames(record, geometry=geometry)


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def new_db(tmp_path) -> SessionDB:
    db = SessionDB(tmp_path / "sessions.db")
    db.create("s", scene(), "ball-off-table.yaml")
    return db


def test_after_a_rewind_the_next_turn_is_anchored_on_the_rewound_to_turn(tiny_ltx, tmp_path):
    watched = Watched(tiny_ltx)
    with new_db(tmp_path) as db, Session(db, "s", video=watched.renderer) as s:
        first, second = play(s, 0), play(s, 1)
        first_frames, second_frames = frames_of(s, first), frames_of(s, second)
        first_geometry = frames_of(s, first, geometry=True)
        assert s.episode.generated(first) and s.episode.generated(second)
        assert watched.anchors[0] is None and np.array_equal(watched.anchors[1].frame, first_frames[-1])
        s.rewind(1)
        play(s, 2)
    anchor, image = watched.anchors[-1], watched.images[-1]
    assert np.array_equal(anchor.frame, first_frames[-1]) and np.array_equal(image, first_frames[-1])
    assert not np.array_equal(image, second_frames[-1])  # not the rewound-away turn's last frame
    # its geometry is the geometry pass where turn 1 ended, exactly as turn 1 recorded it
    assert np.array_equal(anchor.geometry.rgb, first_geometry[-1])
    assert watched.segments[-1].conditioning["anchor"] == "previous_segment"
    assert watched.segments[-1].step == 1


def test_a_turn_dropped_after_its_segment_rendered_is_not_the_next_anchor(tiny_ltx, tmp_path):
    """A turn that fails after its video segment rendered (as a Stop during its commit does) commits
    nothing; the next turn continues from the last committed turn, not from the dropped segment."""
    watched = Watched(tiny_ltx)
    failing = {"on": False}

    def on_node(name, state):
        if failing["on"] and name == "commit":
            raise RuntimeError("stopped")

    with new_db(tmp_path) as db, Session(db, "s", video=watched.renderer, on_node=on_node) as s:
        first = play(s, 0)
        failing["on"] = True
        with pytest.raises(RuntimeError, match="stopped"):
            play(s, 1)
        dropped = watched.segments[-1].frames
        failing["on"] = False
        assert s.state["step"] == 1
        play(s, 1)
        assert np.array_equal(watched.images[-1], frames_of(s, first)[-1])
        assert not np.array_equal(watched.images[-1], dropped[-1])


def test_a_reopened_session_continues_its_chain_as_one_process_would(tiny_ltx, tmp_path):
    """A session closed after two turns and reopened with a freshly loaded renderer (a restarted
    process) anchors its third turn on the stored last frame, and renders it exactly as a session that
    played all three turns in one go."""
    watched = Watched(tiny_ltx)
    (tmp_path / "straight").mkdir()
    with new_db(tmp_path / "straight") as db, Session(db, "s", video=watched.renderer) as s:
        records = [play(s, k) for k in range(3)]
        straight = frames_of(s, records[2])
    with new_db(tmp_path) as db:
        with Session(db, "s", video=load_video_renderer(tiny_ltx, steps=2, size=SIZE)) as s:
            second = [play(s, k) for k in range(2)][-1]
            stored_last = frames_of(s, second)[-1]
    reopened = Watched(tiny_ltx)
    with SessionDB(tmp_path / "sessions.db") as db, Session(db, "s", video=reopened.renderer) as s:
        third = play(s, 2)
        again = frames_of(s, third)
    assert reopened.anchors[0] is not None and np.array_equal(reopened.anchors[0].frame, stored_last)
    assert np.array_equal(reopened.images[0], stored_last)  # not the geometry pass
    assert reopened.segments[0].conditioning["anchor"] == "previous_segment"
    assert same(again, straight) and third.segment == records[2].segment


def test_a_fork_continues_from_the_turn_it_was_forked_at(tiny_ltx, tmp_path):
    """A fork of a session at step 2, played by another renderer, anchors its next turn on the stored
    last frame of the parent's second turn, not on anything its parent rendered later."""
    with new_db(tmp_path) as db:
        with Session(db, "s", video=load_video_renderer(tiny_ltx, steps=2, size=SIZE)) as s:
            records = [play(s, k) for k in range(3)]
            second_last, third = frames_of(s, records[1])[-1], frames_of(s, records[2])
        db.fork("s", "f", 2)
        forked = Watched(tiny_ltx)
        with Session(db, "f", video=forked.renderer) as f:
            again = frames_of(f, play(f, 2))
    assert np.array_equal(forked.images[0], second_last) and same(again, third)


def test_a_turn_replayed_after_a_rewind_renders_the_same_frames(tiny_ltx, tmp_path):
    watched = Watched(tiny_ltx)
    with new_db(tmp_path) as db, Session(db, "s", video=watched.renderer) as s:
        play(s, 0)
        before = play(s, 1)
        before_frames = frames_of(s, before)
        s.rewind(1)
        after = play(s, 1)
        after_frames = frames_of(s, after)
        s.rewind(1)
        other = s.turn(req("flick", events=KICK, duration=DURATION * 2))  # a different turn: different frames
        other_frames = frames_of(s, other)
    assert same(after_frames, before_frames) and after.segment == before.segment
    assert not np.array_equal(other_frames[-1], before_frames[-1])
    assert [seg.step for seg in watched.segments] == [0, 1, 1, 1]


def test_the_renderer_keeps_numbers_not_frames(tiny_ltx, tmp_path):
    watched = Watched(tiny_ltx)
    vr = watched.renderer
    with new_db(tmp_path) as db, Session(db, "s", video=vr) as s:
        for k in range(3):
            play(s, k)
    assert [r.step for r in vr.records] == [0, 1, 2]
    for record in vr.records:
        values = [getattr(record, f.name) for f in dataclasses.fields(record)]
        assert all(v is None or isinstance(v, (int, float)) for v in values), values
    held = [name for name, value in vars(vr).items() if name != "pipe" and holds_arrays(value)]
    assert held == []
    summary = vr.summary()
    assert summary["segments"] == 3 and summary["frames"] == sum(len(s.frames) for s in watched.segments)
    assert summary["seam_psnr_min"] is not None and summary["seam_psnr_mean"] > 0


def holds_arrays(value, depth: int = 0) -> bool:
    """True when `value` is or holds (in lists, tuples, dicts, dataclasses) a NumPy array or a tensor."""
    import torch

    if isinstance(value, (np.ndarray, torch.Tensor)):
        return True
    if depth > 4:
        return False
    if isinstance(value, dict):
        value = list(value.values())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, (list, tuple)):
        return any(holds_arrays(v, depth + 1) for v in value)
    return False
