"""The `callosum` command line as a user meets it: --version, --help, play's maps, size, camera and
seed, its progress while a step plays, and `plan` printing the plan once. Real subprocesses."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, SCENES, run_cli

BALL = SCENES / "ball-off-table.yaml"

ONE_PLANNED_STEP = """\
name: one-step
description: A red ball rests on the floor while someone decides what to do with it.
camera: {position: [0, -2.5, 1.0], look_at: [0, 0, 0.3], fov: 45}
render: {width: 160, height: 120, fps: 24}
entities:
- {id: ball, shape: sphere, size: [0.15], position: [0, 0, 0.15], color: "#e01010", description: a red ball}
steps:
- {action: Someone thinks about kicking the ball., duration: 0.5}
"""


def test_version_prints_the_package_version():
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"callosum \d+\.\d+\.\d+\S*\n", result.stdout)


@pytest.mark.parametrize("command", [[], ["play"], ["plan"], ["check"], ["interact"], ["replay"], ["serve"],
                                     ["sessions"], ["sessions", "export"]])
def test_help_has_no_type_on_flags_and_plain_argument_names(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Usage:" in text and "--help" in text
    assert "<bool>" not in text, text
    assert "[[" not in text and "{" not in text, text


def test_play_writes_depth_and_segmentation_maps_at_the_asked_size(tmp_path):
    out = tmp_path / "maps"
    result = run_cli("play", str(BALL), "--planner", "scripted", "--preset", "fast", "--out", str(out / "a.mp4"),
                     "--state-out", str(out / "a.jsonl"), "--depth-out", str(out / "depth"), "--seg-out",
                     str(out / "seg"), "--size", "160x120", "--seed", "7")
    assert result.returncode == 0, result.stderr
    depth_files = sorted((out / "depth").glob("depth_*.png"))
    seg_files = sorted((out / "seg").glob("seg_*.png"))
    lines = [json.loads(x) for x in (out / "a.jsonl").read_text().splitlines()]
    rows = [x for x in lines if "entities" in x]
    assert lines[0]["seed"] == 7
    assert len(depth_files) == len(seg_files) == len(rows) == 60
    legend = json.loads((out / "seg" / "legend.json").read_text())
    value = {v: k for k, v in legend["values"].items()}
    assert legend["background"] == 0 and {"ball", "table", "ground"} <= set(value)

    depth = np.asarray(Image.open(depth_files[0]))
    seg = np.asarray(Image.open(seg_files[0]))
    assert depth.dtype == np.uint16 and depth.shape == seg.shape == (120, 160)
    ball = seg == int(value["ball"])
    assert ball.sum() > 5
    assert (depth[seg == 0] == 0).all() and (depth[seg > 0] > 0).all()  # 0 = nothing hit (the sky)
    from simulator.loader import load_scene

    cam = np.array(load_scene(BALL).camera.position)
    centre = np.array(rows[0]["entities"]["ball"]["position"])
    nearest = np.linalg.norm(centre - cam) - 0.06  # the ball's radius
    # depth is along the view axis, so never more than the distance along the ray; the nearest
    # point of the ball is close to the view axis here
    assert nearest * 0.93 < depth[ball].min() / 1000.0 < nearest * 1.01


def test_play_camera_override_changes_the_view(tmp_path):
    def ball_pixels(*extra):
        folder = tmp_path / ("-".join(extra) or "default")
        result = run_cli("play", str(BALL), "--planner", "scripted", "--preset", "fast", "--out",
                         str(folder / "a.mp4"), "--seg-out", str(folder / "seg"), "--size", "160x120", *extra)
        assert result.returncode == 0, result.stderr
        legend = json.loads((folder / "seg" / "legend.json").read_text())
        ball = int({v: k for k, v in legend["values"].items()}["ball"])
        return int((np.asarray(Image.open(folder / "seg" / "seg_000000.png")) == ball).sum())

    wide, narrow = ball_pixels(), ball_pixels("--camera", "fov=20", "--camera", "look_at=-0.35,0,0.835")
    assert narrow > 4 * wide  # a narrower field of view aimed at the ball makes it bigger


@pytest.mark.parametrize("args, says", [
    (["--size", "12x"], "--size '12x' is not a size"),
    (["--size", "8x8"], "out of range"),
    (["--camera", "zoom=2"], "KEY one of position, look_at, fov"),
    (["--camera", "fov=wide"], "must be numbers"),
    (["--camera", "position=1,2"], "position takes 3 numbers"),
    (["--camera", "fov=500"], "camera.fov"),
])
def test_play_refuses_bad_overrides_naming_the_option(tmp_path, args, says):
    result = run_cli("play", str(BALL), "--planner", "scripted", "--out", str(tmp_path / "a.mp4"), *args)
    assert result.returncode == 2
    assert says in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


def test_play_names_each_step_as_it_plans_without_a_terminal(tmp_path):
    scene = tmp_path / "one-step.yaml"
    scene.write_text(ONE_PLANNED_STEP)
    result = run_cli("play", str(scene), "--planner", "scripted", "--preset", "fast", "--out", str(tmp_path / "a.mp4"))
    assert result.returncode == 0, result.stderr
    err = " ".join(result.stderr.split())
    assert "step 1/1: planning “Someone thinks about kicking the ball.” …" in err
    assert re.search(r"step 1/1 \(\d+\.\d s\): \w", err), err  # then what the step did


def test_play_shows_a_spinner_with_the_stage_and_elapsed_time_in_a_terminal(tmp_path):
    import pty

    scene = tmp_path / "one-step.yaml"
    scene.write_text(ONE_PLANNED_STEP.replace("duration: 0.5", "duration: 6.0"))
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "play", str(scene), "--planner", "scripted", "--preset",
                             "fast", "--out", str(tmp_path / "a.mp4")], stdin=slave, stdout=slave, stderr=slave,
                            cwd=ROOT, env=env)
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        proc.wait(30)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))  # without colours
    assert proc.returncode == 0, text[-2000:]
    assert re.search(r"step 1/1 · (planning|checking the plan|simulating|rendering|saving) · “Someone", text), text[-2000:]
    assert set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") & set(text), "no spinner frame was drawn"
    elapsed = [float(x) for x in re.findall(r"” (\d+\.\d) s", text)]
    assert elapsed and max(elapsed) > min(elapsed), elapsed  # the step's clock ticks while it works


def test_plan_prints_the_plan_once_and_the_record_on_request():
    result = run_cli("plan", str(BALL), "--action", "roll the ball left", "--planner", "scripted")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert list(body) == ["plan"] and result.stdout.count('"narration"') == 1
    result = run_cli("plan", str(BALL), "--action", "roll the ball left", "--planner", "scripted", "--record")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"plan", "record"} and "plan" not in body["record"]
    assert result.stdout.count('"narration"') == 1
