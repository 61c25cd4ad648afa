"""`callosum play --video-model`: a shipped scene rendered end to end through a tiny real pipeline."""

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")

from agent.turns.playback import play, total_frames  # noqa: E402
from renderer.video import load_video_renderer  # noqa: E402
from simulator import load_scene  # noqa: E402
from tests.conftest import SCENES, run_cli  # noqa: E402



def test_play_renders_one_chained_segment_per_step(tiny_ltx, tmp_path):
    import torch

    torch.set_num_threads(1)
    scene = load_scene(SCENES / "ball-off-table.yaml")
    vr = load_video_renderer(tiny_ltx, steps=2, size=(64, 64))
    anchors = []
    real = vr.pipe.video_processor.preprocess

    def spy(image, *args, **kwargs):
        if isinstance(image, Image.Image):  # the anchor; preprocess_video also calls preprocess with arrays
            anchors.append(np.asarray(image))
        return real(image, *args, **kwargs)

    vr.pipe.video_processor.preprocess = spy
    segments, render_segment = [], vr.render_segment
    vr.render_segment = lambda *args, **kwargs: segments.append(render_segment(*args, **kwargs)) or segments[-1]
    result = play(scene, out=tmp_path / "v.mp4", preset="fast", video=vr)
    fps = scene.render.fps
    assert [len(s.frames) for s in segments] == [round(st.duration * fps) for st in scene.steps]
    assert result.frames == total_frames(scene) == sum(len(s.frames) for s in segments)
    assert len(anchors) == len(scene.steps)
    for prev, anchor in zip(segments, anchors[1:]):
        assert np.array_equal(anchor, prev.frames[-1])
    assert all(s.seam_psnr is not None for s in segments[1:])
    assert [r.seam_psnr for r in vr.records] == [s.seam_psnr for s in segments]  # numbers kept, not frames
    assert iio.imread(tmp_path / "v.mp4").shape == (result.frames, 64, 64, 3)


@pytest.mark.slow
def test_cli_play_with_video_model(tiny_ltx, tmp_path):
    scene = load_scene(SCENES / "ball-off-table.yaml")
    out = tmp_path / "cli.mp4"
    r = run_cli("play", str(SCENES / "ball-off-table.yaml"), "--out", str(out), "--preset", "fast",
                "--planner", "scripted", "--video-model", str(tiny_ltx), "--video-steps", "2",
                "--video-size", "64x64", "--strength", "0.7")
    assert r.returncode == 0, r.stderr[-2000:]
    assert iio.imread(out).shape == (total_frames(scene), 64, 64, 3)
    said = " ".join((r.stdout + r.stderr).split())
    assert f"video: {len(scene.steps)} segments (ltx, seed {scene.seed}); seam PSNR mean" in said
