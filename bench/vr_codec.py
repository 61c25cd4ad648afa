"""Headset stream bandwidth and encode cost: JPEG against H.264 at equal quality, from real renders.

Renders a head turning and stepping through the scene with the server's headset path (each eye's
own ~100° frustum plus the reprojection margin, side by side, with the depth plane), then encodes the
sequence as the server does: JPEG (Pillow, the server's quality) and H.264 (PyAV libx264 ultrafast
zerolatency, timestamps at 72 Hz). The H.264 bitrate is searched until its mean SSIM against the raw
render matches JPEG's, and both are reported in Mbit/s at 72 Hz (depth plane included).

    python bench/vr_codec.py --eye 1024x1024 --frames 24
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MUJOCO_GL", "egl")

HZ = 72


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """Mean SSIM of two RGB images on their luma, with a uniform win×win window."""
    def luma(x):
        return x[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])

    def box(x):
        c = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return (c[win:, win:] - c[:-win, win:] - c[win:, :-win] + c[:-win, :-win]) / (win * win)

    x, y = luma(a), luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = box(x), box(y)
    vx, vy, cov = box(x * x) - mx * mx, box(y * y) - my * my, box(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def render_sequence(scene_name: str, eye: tuple[int, int], frames: int, fov_deg: float):
    """(rgb frames, depth-plane bytes per frame, render ms per frame) of a head turning and stepping."""
    from renderer.geometry import GeometryRenderer
    from server.frames import render_xr
    from server.protocol import PoseMsg
    from server.xr import PosePredictor
    from simulator import World, load_scene

    scene = load_scene(ROOT / "scenes" / f"{scene_name}.yaml")
    world = World(scene)
    tan = math.tan(math.radians(fov_deg / 2))
    out, depth_bytes, ms = [], [], []
    renderer = None
    for k in range(frames):
        yaw, x = 0.25 * math.sin(k / 10), 0.05 * math.sin(k / 7)
        q = [0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)]
        views = [{"position": [x + d * math.cos(yaw), 0.0, -d * math.sin(yaw)], "orientation": q,
                  "tangents": [-tan, tan, -tan, tan]} for d in (-0.032, 0.032)]
        target = PosePredictor().predict(PoseMsg(position=(x, 0, 0), orientation=tuple(q), views=views,
                                                 viewport=eye), eye)
        if renderer is None:
            renderer = GeometryRenderer(scene, *target.size, preset="fast")
        t0 = time.perf_counter()
        image, depth, _ = render_xr(renderer, world, scene, "rgb", target)
        ms.append((time.perf_counter() - t0) * 1000)
        out.append(np.ascontiguousarray(image))
        depth_bytes.append(len(depth))
    renderer.close()
    return out, depth_bytes, ms


def jpeg_run(frames, quality: int):
    from PIL import Image

    sizes, scores, ms = [], [], []
    for f in frames:
        t0 = time.perf_counter()
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, "JPEG", quality=quality)
        ms.append((time.perf_counter() - t0) * 1000)
        sizes.append(buf.tell())
        scores.append(ssim(f, np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))))
    return sizes, scores, ms


def h264_run(frames, kbps: int):
    import av

    from server.codec import VideoEncoder

    enc = VideoEncoder(kbps)
    dec = av.CodecContext.create("h264", "r")
    sizes, scores, ms = [], [], []
    for k, f in enumerate(frames):
        data, _ = enc.encode(f, pts_ms=round(k * 1000 / HZ))
        ms.append(enc.encode_ms)
        sizes.append(len(data))
        got = list(dec.decode(av.Packet(data)))
        scores.append(ssim(f, got[-1].to_ndarray(format="rgb24")))
    return sizes, scores, ms


def mbps(sizes, depth) -> float:
    return (np.mean(sizes) + np.mean(depth)) * 8 * HZ / 1e6


def measure(scene: str, eye: tuple[int, int], frames: int, fov: float, quality: int = 80) -> dict:
    seq, depth, render_ms = render_sequence(scene, eye, frames, fov)
    j_sizes, j_ssim, j_ms = jpeg_run(seq, quality)
    target = float(np.mean(j_ssim))
    lo, hi, best = 500, 120_000, None
    for _ in range(7):  # bisect the bitrate (log scale) to JPEG's SSIM
        kbps = int(math.sqrt(lo * hi))
        h_sizes, h_ssim, h_ms = h264_run(seq, kbps)
        best = (kbps, h_sizes, h_ssim, h_ms)
        if np.mean(h_ssim) < target:
            lo = kbps
        else:
            hi = kbps
    kbps, h_sizes, h_ssim, h_ms = best
    h, w = seq[0].shape[:2]
    return {
        "eye_viewport": list(eye), "rendered_per_eye": [w // 2, h], "fov_deg": fov, "frames": frames, "hz": HZ,
        "render_ms_p50": round(float(np.median(render_ms)), 1),
        "depth_plane_kb": round(float(np.mean(depth)) / 1024, 1),
        "jpeg": {"quality": quality, "ssim": round(target, 4), "mbit_s": round(mbps(j_sizes, depth), 1),
                 "encode_ms_p50": round(float(np.median(j_ms)), 1)},
        "h264": {"kbps_setting": kbps, "ssim": round(float(np.mean(h_ssim)), 4),
                 "mbit_s": round(mbps(h_sizes[1:], depth), 1), "keyframe_kb": round(h_sizes[0] / 1024, 1),
                 "encode_ms_p50": round(float(np.median(h_ms[1:])), 1)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eye", default="1024x1024", help="the headset's framebuffer per eye")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--fov", type=float, default=100.0, help="field of view per eye (degrees, both axes)")
    ap.add_argument("--scene", default="ball-off-table")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    eye = tuple(int(v) for v in args.eye.split("x"))
    result = measure(args.scene, eye, args.frames, args.fov)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
