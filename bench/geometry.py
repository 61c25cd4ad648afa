"""Geometry pass and physics speed: Callosum's path against raw MuJoCo, in one run.

    python bench/geometry.py [--scene scenes/domino-chain.yaml] [--seconds 2] [--json out.json]

Ratios are what to compare (this machine is shared and noisy); absolute fps are for context.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer.geometry import GeometryRenderer, Pose  # noqa: E402
from simulator import World, load_scene  # noqa: E402
from simulator._mujoco import mujoco  # noqa: E402


def rate(fn, seconds: float) -> float:
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def raw_renderer(world: World, size: int, preset: str) -> tuple[mujoco.Renderer, callable]:
    model = copy.copy(world.model)
    samples, shadowsize = (0, 512) if preset == "fast" else (4, 2048)
    model.vis.quality.offsamples = samples
    model.vis.quality.shadowsize = shadowsize
    model.vis.global_.offwidth = model.vis.global_.offheight = 2 * size
    r = mujoco.Renderer(model, size, size)
    pose = Pose.from_camera(world.scene.camera)
    cam = mujoco.MjvCamera()
    cam.lookat[:] = world.scene.camera.look_at
    offset = pose.position - cam.lookat
    cam.distance = float(np.linalg.norm(offset))
    cam.azimuth = float(np.degrees(np.arctan2(offset[1], offset[0]))) + 180.0
    cam.elevation = -float(np.degrees(np.arcsin(offset[2] / cam.distance)))

    def render():
        r.update_scene(world.data, cam)
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = preset != "fast"
        r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = preset != "fast"
        return r.render()

    return r, render


def bench_render(world: World, size: int, preset: str, seconds: float) -> dict:
    ours = GeometryRenderer(world.scene, size, size, preset=preset)
    raw, raw_render = raw_renderer(world, size, preset)
    row = {"size": size, "preset": preset}
    row["ours_mono_fps"] = rate(lambda: ours.render(world), seconds)
    row["raw_mono_fps"] = rate(raw_render, seconds)
    row["ours_stereo_pairs_s"] = rate(lambda: ours.render(world, stereo=True), seconds)
    row["raw_stereo_pairs_s"] = rate(lambda: (raw_render(), raw_render()), seconds)
    row["mono_ratio"] = row["ours_mono_fps"] / row["raw_mono_fps"]
    row["stereo_ratio"] = row["ours_stereo_pairs_s"] / row["raw_stereo_pairs_s"]
    ours.close()
    raw.close()
    return row


def bench_physics(scene, seconds: float) -> dict:
    world = World(scene)
    for step in scene.steps[:1]:
        world.apply(step.events or [])
    fps = scene.render.fps
    per_frame = round(1 / (fps * scene.physics.timestep))

    def ours():
        world.advance(1.0, fps)

    raw_world = World(scene)
    m, d = raw_world.model, raw_world.data
    n = round(1.0 / scene.physics.timestep)

    def raw():
        for _ in range(fps):
            mujoco.mj_step(m, d, nstep=per_frame)
            mujoco.mj_kinematics(m, d)

    ours_rate = rate(ours, seconds) * n
    raw_rate = rate(raw, seconds) * fps * per_frame
    return {"ours_steps_s": ours_rate, "raw_steps_s": raw_rate, "ratio": ours_rate / raw_rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default="scenes/domino-chain.yaml")
    ap.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--presets", default="fast,quality")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    scene = load_scene(args.scene)
    world = World(scene)
    rows = [bench_render(world, int(s), p, args.seconds) for p in args.presets.split(",") for s in args.sizes.split(",")]
    physics = bench_physics(scene, args.seconds)
    print(f"scene {scene.name}: {len(scene.entities)} entities, MUJOCO_GL={__import__('os').environ['MUJOCO_GL']}")
    print(f"{'preset':8} {'size':>5} {'ours fps':>9} {'raw fps':>8} {'ratio':>6} {'ours pairs/s':>13} {'raw pairs/s':>12} {'ratio':>6}")
    for r in rows:
        print(f"{r['preset']:8} {r['size']:>5} {r['ours_mono_fps']:9.1f} {r['raw_mono_fps']:8.1f} {r['mono_ratio']:6.2f} "
              f"{r['ours_stereo_pairs_s']:13.1f} {r['raw_stereo_pairs_s']:12.1f} {r['stereo_ratio']:6.2f}")
    print(f"physics: ours {physics['ours_steps_s']:,.0f} steps/s, raw mj_step {physics['raw_steps_s']:,.0f} steps/s, "
          f"ratio {physics['ratio']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"render": rows, "physics": physics}, indent=2))


if __name__ == "__main__":
    main()
