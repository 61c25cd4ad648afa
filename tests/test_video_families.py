"""Each video family, as a real tiny diffusers pipeline saved to disk and loaded back through our loader."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from renderer.video import Anchor, load_video_renderer  # noqa: E402
from renderer.video.tiny import save_tiny, synthetic_geometry  # noqa: E402

FAMILIES = ["ltx", "wan", "wan-vace", "cogvideox"]
STEP_FRAMES = [5, 4, 6]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    for family in FAMILIES:
        save_tiny(family, root / family)
    return root


class Spy:
    """Records every image/video the real pipeline's video processor receives, then calls through."""

    def __init__(self, processor):
        self.images, self.videos = [], []
        real_image, real_video = processor.preprocess, processor.preprocess_video

        def preprocess(image, *args, **kwargs):
            self.images.append(np.asarray(image))
            return real_image(image, *args, **kwargs)

        def preprocess_video(video, *args, **kwargs):
            self.videos.append([np.asarray(f) for f in video])
            return real_video(video, *args, **kwargs)

        processor.preprocess, processor.preprocess_video = preprocess, preprocess_video

    def saw(self, frame: np.ndarray) -> bool:
        firsts = [v[0] for v in self.videos if len(v)]
        return any(x.shape == frame.shape and np.array_equal(x, frame) for x in self.images + firsts)

    def clear(self):
        self.images.clear()
        self.videos.clear()


def session(vr, seed, spy=None, progress=None):
    vr.start(seed, fps=12)
    segments, start, anchor = [], 0, None
    for k, n in enumerate(STEP_FRAMES):
        if spy:
            spy.clear()
        geometry = synthetic_geometry(n, start)
        seg = vr.render_segment(f"step {k}: a red ball rolls across a grey floor", geometry, step=k,
                                anchor=anchor, progress=progress)
        anchor = Anchor(frame=seg.frames[-1], geometry=geometry[-1])
        if spy and segments:
            assert spy.saw(segments[-1].frames[-1]), f"segment {k} was not conditioned on segment {k - 1}'s last frame"
        segments.append(seg)
        start += n
    return segments


@pytest.mark.parametrize("family", FAMILIES)
def test_segments_chain_on_the_previous_last_frame(folders, family):
    vr = load_video_renderer(folders / family, steps=2, strength=0.7)
    spy = Spy(vr.pipe.video_processor)
    calls = []
    segs = session(vr, seed=3, spy=spy, progress=lambda i, n: calls.append((i, n)))
    assert [len(s.frames) for s in segs] == STEP_FRAMES
    assert all(f.shape == (32, 32, 3) and f.dtype == np.uint8 for s in segs for f in s.frames)
    assert [s.step for s in segs] == [0, 1, 2] and {s.seed for s in segs} == {3} and {s.fps for s in segs} == {12}
    assert segs[0].conditioning["anchor"] == "geometry_rgb"
    assert {s.conditioning["anchor"] for s in segs[1:]} == {"previous_segment"}
    rules = vr.rules
    for s, n in zip(segs, STEP_FRAMES):
        m = s.conditioning["model_frames"]
        assert (m - 1) % rules.frame_step == 0
        assert m >= min(n + (s.step > 0), rules.max_frames or 10**6) or rules.fixed_frames == m
    assert segs[0].seam_psnr is None and all(s.seam_psnr is not None and s.seam_ssim is not None for s in segs[1:])
    assert calls and calls[-1][0] == calls[-1][1]
    summary = vr.summary()
    assert summary["segments"] == 3 and summary["frames"] == sum(STEP_FRAMES)
    assert summary["seam_psnr_mean"] == pytest.approx(np.mean([s.seam_psnr for s in segs[1:]]))


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_frames_other_seed_other_frames(folders, family):
    vr = load_video_renderer(folders / family, steps=2)
    a, b, c = session(vr, 11), session(vr, 11), session(vr, 12)
    frames = lambda segs: np.stack([f for s in segs for f in s.frames])
    assert np.array_equal(frames(a), frames(b))
    assert not np.array_equal(frames(a), frames(c))


def test_geometry_enters_as_init_video_or_control(folders):
    conds = {}
    for family in FAMILIES:
        vr = load_video_renderer(folders / family, steps=2, strength=0.6)
        vr.start(0, 12)
        conds[family] = vr.render_segment("a ball", synthetic_geometry(5), step=0).conditioning
    assert conds["ltx"]["geometry"] == conds["wan"]["geometry"] == conds["cogvideox"]["geometry"] == "init_video:rgb"
    assert conds["wan-vace"]["geometry"] == "control:depth"


def test_strength_changes_the_frames(folders):
    out = {}
    for strength in (0.5, 1.0):
        vr = load_video_renderer(folders / "wan", steps=2, strength=strength)
        vr.start(0, 12)
        out[strength] = vr.render_segment("a ball", synthetic_geometry(5), step=0)
    assert out[1.0].conditioning["geometry"] == "none"
    assert not np.array_equal(np.stack(out[0.5].frames), np.stack(out[1.0].frames))


def test_vace_segmentation_control(folders):
    vr = load_video_renderer(folders / "wan-vace", steps=2, control="segmentation")
    spy = Spy(vr.pipe.video_processor)
    vr.start(0, 12)
    seg = vr.render_segment("a ball", synthetic_geometry(5), step=0)
    assert seg.conditioning["geometry"] == "control:segmentation"
    control = spy.videos[0]
    assert len(control) == seg.conditioning["model_frames"]
    assert {tuple(c) for c in control[2].reshape(-1, 3)} >= {(0, 0, 0)}  # background stays black


def test_bad_inputs_name_the_field(folders):
    vr = load_video_renderer(folders / "ltx", steps=2)
    with pytest.raises(RuntimeError, match="start"):
        vr.render_segment("x", synthetic_geometry(3), step=0)
    vr.start(0, 12)
    with pytest.raises(ValueError, match="geometry"):
        vr.render_segment("x", [], step=0)
    with pytest.raises(ValueError, match=r"step: must be the step's index, an integer >= 0, got -1"):
        vr.render_segment("x", synthetic_geometry(3), step=-1)
    with pytest.raises(TypeError, match="anchor: must be an Anchor or None, got ndarray"):
        vr.render_segment("x", synthetic_geometry(3), step=1, anchor=np.zeros((32, 32, 3), np.uint8))
    small = synthetic_geometry(1, width=16, height=16)[0]
    with pytest.raises(ValueError, match=r"anchor.geometry.rgb: expected \(32, 32, 3\)"):
        vr.render_segment("x", synthetic_geometry(3), step=1, anchor=Anchor(frame=small.rgb, geometry=small))
    assert vr.records == []
    with pytest.raises(ValueError, match=r"divisible by 32, got 30x32 \(width 30\)"):
        load_video_renderer(folders / "ltx", size=(30, 32))
    with pytest.raises(ValueError, match=r"only renders 32x32"):
        load_video_renderer(folders / "cogvideox", size=(64, 64))
    with pytest.raises(ValueError, match="strength"):
        load_video_renderer(folders / "wan", strength=1.5)
    with pytest.raises(ValueError, match="dtype"):
        load_video_renderer(folders / "wan", dtype="int8")
