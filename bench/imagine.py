"""Imagination speed: rollouts per second from one snapshot, the way the cerebellum uses them.

    python bench/imagine.py [--scene scenes/tower-knockover.yaml] [--seconds 2] [--fps 12] [--time 3]

Reports a reused Imaginer (restore + events + rollout + exported states), a fresh one per call
(scratch World built each time), and the bare physics of the same rollout (World.advance on a
live world, no export) for comparison. The machine is shared: compare ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator import World, load_scene  # noqa: E402
from simulator.imagine import Imaginer, imagine  # noqa: E402
from simulator.scene import ApplyImpulseEvent  # noqa: E402


def rate(fn, seconds: float) -> tuple[float, float, float]:
    """Calls per second (wall), the median wall milliseconds per call and the median CPU milliseconds
    per call (this process only: steadier than wall time on a shared machine)."""
    fn()
    times, cpu = [], []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    return len(times) / sum(times), 1000 * times[len(times) // 2], 1000 * cpu[len(cpu) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default=str(Path(__file__).resolve().parent.parent / "scenes/tower-knockover.yaml"))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=12)
    ap.add_argument("--time", type=float, default=3.0, help="seconds to measure each variant")
    args = ap.parse_args()
    scene = load_scene(args.scene)
    live = World(scene)
    live.advance(0.1, 24)
    snap = live.snapshot()
    body = next(eid for eid, e in live.entities.items() if not e.fixed)
    magnitudes = iter(range(10**9))
    imaginer = Imaginer(scene)

    def kick():
        return [ApplyImpulseEvent(type="apply_impulse", entity=body,
                                  impulse=(0.05 + 0.01 * (next(magnitudes) % 20), 0.0, 0.0))]

    def bare():
        w = World(scene)
        w.apply(kick())
        w.advance(args.seconds, args.fps)

    results = {}
    for name, fn in (("reused Imaginer", lambda: imaginer.run(snap, kick(), args.seconds, args.fps)),
                     ("fresh imagine()", lambda: imagine(scene, snap, kick(), args.seconds, args.fps)),
                     ("bare World + advance", bare)):
        per_s, median_ms, cpu_ms = rate(fn, args.time)
        results[name] = {"rollouts_per_s": round(per_s, 1), "median_ms": round(median_ms, 2),
                         "median_cpu_ms": round(cpu_ms, 2)}
        print(f"{name:22s} {per_s:7.1f} rollouts/s   median {median_ms:6.2f} ms (CPU {cpu_ms:6.2f} ms) "
              f"({args.seconds:g} s simulated, {args.fps} fps exported, {len(live.entities)} bodies)")
    print(json.dumps({"scene": scene.name, "seconds": args.seconds, "fps": args.fps, **results}))


if __name__ == "__main__":
    main()
