"""`callosum play`: a scene file becomes an MP4, a state JSONL and PNG frames."""

import json

import imageio.v3 as iio
import numpy as np

from agent.turns.playback import play, total_frames
from simulator import load_scene
from tests.conftest import SCENES, run_cli


def test_cli_play_writes_mp4_jsonl_and_frames(tmp_path):
    scene = load_scene(SCENES / "box-drop.yaml")
    out, states, frames = tmp_path / "x.mp4", tmp_path / "x.jsonl", tmp_path / "frames"
    result = run_cli("play", str(SCENES / "box-drop.yaml"), "--out", str(out), "--state-out", str(states),
                     "--frames-dir", str(frames), "--preset", "fast", "--planner", "scripted", "--summary")
    assert result.returncode == 0, result.stderr
    expected = sum(round(s.duration * scene.render.fps) for s in scene.steps)
    assert expected == total_frames(scene) == 84
    video = iio.imread(out)
    assert video.shape == (expected, scene.render.height, scene.render.width, 3)
    assert len(list(frames.glob("frame_*.png"))) == expected
    lines = [json.loads(line) for line in states.read_text().splitlines()]
    header, rows = lines[0], [line for line in lines[1:] if "entities" in line]
    assert header["scene"] == "box-drop" and header["schema_version"] == 1
    assert len(rows) == expected
    assert set(rows[0]) == {"step", "time", "entities"}
    held = rows[0]["entities"]["box"]  # in the first frame, held above the table
    assert held["fixed"] and held["position"][2] == 1.3
    box = rows[-1]["entities"]["box"]
    assert set(box) >= {"shape", "position", "orientation", "velocity", "color", "fixed"}
    assert box["color"] == "#c19a6b" and len(box["orientation"]) == 4
    assert rows[-1]["time"] == rows[-1]["time"] and abs(rows[-1]["time"] - 3.5) < 1e-6
    assert "box" in result.stdout  # --summary prints the final state


def test_play_frames_match_the_png_frames(tmp_path):
    scene = load_scene(SCENES / "ball-off-table.yaml")
    result = play(scene, out=tmp_path / "a.mp4", frames_dir=tmp_path / "f", preset="fast")
    pngs = sorted((tmp_path / "f").glob("*.png"))
    assert result.frames == len(pngs) == 60
    video = iio.imread(tmp_path / "a.mp4")
    diff = np.abs(video[30].astype(int) - iio.imread(pngs[30]).astype(int)).mean()
    assert diff < 4  # same frame, through lossy H.264


def test_play_is_deterministic_frame_for_frame(tmp_path):
    scene = load_scene(SCENES / "tower-knockover.yaml")
    play(scene, frames_dir=tmp_path / "a", preset="fast")
    play(scene, frames_dir=tmp_path / "b", preset="fast")
    a, b = sorted((tmp_path / "a").glob("*.png")), sorted((tmp_path / "b").glob("*.png"))
    assert len(a) == len(b) == 72
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_stereo_play_doubles_the_width(tmp_path):
    scene = load_scene(SCENES / "ball-off-table.yaml")
    play(scene, out=tmp_path / "s.mp4", stereo=True, preset="fast")
    assert iio.imread(tmp_path / "s.mp4").shape[1:] == (240, 640, 3)
