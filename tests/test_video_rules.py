"""Frame/size rules, the seam metric, control-video colouring and bad-folder errors (no pipelines run)."""

import json

import numpy as np
import pytest

from renderer.video import detect_family, parse_size
from renderer.video.base import FrameRules
from renderer.video.frames import depth_video, label_color, pick_indices, psnr, segmentation_video, ssim

LTX = FrameRules("LTX-Video", frame_step=8, size_multiple=32, max_frames=257)


def test_ltx_frame_rule_is_8k_plus_1():
    assert [LTX.frames_for(n) for n in (1, 2, 9, 10, 60, 61)] == [1, 9, 9, 17, 65, 65]
    LTX.check_frames(121)
    with pytest.raises(ValueError, match=r"num_frames: LTX-Video needs 8k\+1 frames.*got 120.*113, 121"):
        LTX.check_frames(120)
    assert LTX.frames_for(1000) == 257


def test_size_rule_lists_allowed_values():
    LTX.check_size(768, 512)
    with pytest.raises(ValueError, match=r"divisible by 32, got 770x512 \(width 770\); try width 768 or 800"):
        LTX.check_size(770, 512)
    assert LTX.size_for(320, 240) == (320, 224)
    fixed = FrameRules("CogVideoX", 4, 16, fixed_frames=49, fixed_size=(720, 480))
    assert fixed.frames_for(10) == 49 and fixed.size_for(320, 240) == (720, 480)
    with pytest.raises(ValueError, match=r"only renders 720x480, got 768x512; pass --video-size 720x480"):
        fixed.check_size(768, 512)
    with pytest.raises(ValueError, match="exactly 49"):
        fixed.check_frames(33)


def test_parse_size():
    assert parse_size("768x512") == (768, 512) and parse_size(None) is None
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size("768by512")


def test_pick_indices_spread_evenly():
    assert pick_indices(9, 5) == [0, 2, 4, 6, 8]
    assert pick_indices(3, 5) == [0, 0, 1, 2, 2]
    assert pick_indices(4, 1) == [0]


def test_psnr_and_ssim():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    noisy = np.clip(a.astype(int) + rng.integers(-8, 9, a.shape), 0, 255).astype(np.uint8)
    assert psnr(a, a) == 100.0 and ssim(a, a) == pytest.approx(1.0)
    assert 25 < psnr(a, noisy) < 40 and 0.5 < ssim(a, noisy) < 1.0
    other = rng.integers(0, 256, a.shape, dtype=np.uint8)
    assert psnr(a, other) < 12 and ssim(a, other) < 0.2
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(a, a[:16])


def test_control_videos():
    d = [np.array([[1.0, 2.0], [4.0, np.inf]], np.float32)] * 2
    grey = depth_video(d)
    assert grey[0].shape == (2, 2, 3) and grey[0][0, 0, 0] > grey[0][0, 1, 0] > grey[0][1, 0, 0]
    assert grey[0][1, 1, 0] == 0  # far plane is black
    seg = segmentation_video([np.array([[0, 1], [-1, 1]])], [["ground", "ball"]])[0]
    assert tuple(seg[0, 1]) == label_color("ball") and tuple(seg[1, 0]) == (0, 0, 0)
    # the colour follows the entity id, not its index
    again = segmentation_video([np.array([[0]])], [["ball"]])[0]
    assert tuple(again[0, 0]) == label_color("ball")


def write_index(folder, name, components=("transformer", "vae", "text_encoder", "tokenizer", "scheduler")):
    folder.mkdir(parents=True, exist_ok=True)
    index = {"_class_name": name, "_diffusers_version": "0.42.1"}
    index.update({c: ["diffusers", "X"] for c in components})
    (folder / "model_index.json").write_text(json.dumps(index))
    for c in components:
        (folder / c).mkdir(exist_ok=True)
        (folder / c / "config.json").write_text("{}")


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        detect_family(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no model_index.json"):
        detect_family(tmp_path)
    write_index(tmp_path / "sd", "StableDiffusionPipeline")
    with pytest.raises(ValueError, match=r"unknown pipeline 'StableDiffusionPipeline'.*LTXConditionPipeline"):
        detect_family(tmp_path / "sd")
    write_index(tmp_path / "t2v", "WanPipeline")
    with pytest.raises(ValueError, match="text-to-video only"):
        detect_family(tmp_path / "t2v")
    write_index(tmp_path / "ltx", "LTXPipeline")
    assert detect_family(tmp_path / "ltx")[:2] == ("ltx", "LTXConditionPipeline")
    (tmp_path / "ltx" / "vae" / "config.json").unlink()
    (tmp_path / "ltx" / "vae").rmdir()
    with pytest.raises(FileNotFoundError, match=r"missing component\(s\): vae"):
        detect_family(tmp_path / "ltx")
    write_index(tmp_path / "wan", "WanImageToVideoPipeline", components=("transformer", "vae", "scheduler"))
    with pytest.raises(FileNotFoundError, match=r"missing component\(s\): text_encoder, tokenizer"):
        detect_family(tmp_path / "wan")
